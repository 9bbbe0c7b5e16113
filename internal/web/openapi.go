package web

import (
	"net/http"

	"github.com/portvakt/portvakt/internal/web/openapi"
)

// openAPIDocument serves the API's OpenAPI 3.1 document
// (internal/web/openapi/openapi.yaml) as it is written, in the YAML
// media type of RFC 9512.
func (s *Server) openAPIDocument(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(openapi.Document)
	return err
}
