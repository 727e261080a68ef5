package verifier

// RefreshAfter exposes refreshAfter to the tests.
var RefreshAfter = refreshAfter

// OtherKeys exposes otherKeys to the tests.
var OtherKeys = otherKeys
