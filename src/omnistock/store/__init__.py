"""Storage: tables, engine and sessions, migrations. The only package that speaks SQL."""
