"""`omnistock demo`: the service, its workers and a simulated set of shops, with shoppers buying."""
