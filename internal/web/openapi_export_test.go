package web

// AdapterProblemKinds are the problem types the adapters write besides
// problem.Kind's: a fault, a database or hashing pool that cannot serve
// now, and a body over its limit (TestOpenAPIProblemTypes).
var AdapterProblemKinds = []string{"internal", kindUnavailable, kindTooLarge}
