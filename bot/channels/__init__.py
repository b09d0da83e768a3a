"""Channel adapters: turn platform updates into neutral events and neutral replies into sends."""
