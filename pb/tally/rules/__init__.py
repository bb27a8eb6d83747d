"""The tally rules, one module per rule; :mod:`pb.tally.rules.registry` lists them."""
