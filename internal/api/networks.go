package api

// networkRoutes registers the /networks endpoints.
func (s *Server) networkRoutes() {}
