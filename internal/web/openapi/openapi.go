// Package openapi holds Portvakt's OpenAPI 3.1 document for /api/v1 and
// /api/admin/v1, hand-written in openapi.yaml and embedded here. The web
// server serves it at GET /api/openapi.yaml; the tests of package web
// check it against the route table and validate every API response
// against it. openapi.yaml's header says how to add a route.
package openapi

import _ "embed"

// Document is openapi.yaml, as written.
//
//go:embed openapi.yaml
var Document []byte
