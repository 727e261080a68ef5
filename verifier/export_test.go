package verifier

// RefreshAfter exposes refreshAfter to the tests.
var RefreshAfter = refreshAfter
