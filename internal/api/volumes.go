package api

// volumeRoutes registers the /volumes endpoints.
func (s *Server) volumeRoutes() {}
