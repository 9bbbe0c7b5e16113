package browsertest

// Candidates exposes the chromium search list, so a test can make the
// search come up empty.
var Candidates = &candidates
