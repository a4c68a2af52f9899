"""Set-based reads for console pages: each page asks for what it shows in a few queries, whatever the
number of rows, instead of calling per-row service functions in a loop."""
