package web

import "github.com/portvakt/portvakt/internal/flow"

// The flows a handler may drive: each area's handlers reach flow.Service
// through the face of their journey (flow/faces.go), not through the whole
// service. Configuration (s.Flows.MFA, s.Flows.Config, …) is still read
// from the service itself.

func (s *Server) login() flow.Login       { return s.Flows }
func (s *Server) recovery() flow.Recovery { return s.Flows }
func (s *Server) mfa() flow.MFA           { return s.Flows }
func (s *Server) settings() flow.Settings { return s.Flows }
