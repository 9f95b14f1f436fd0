package api

// imageRoutes registers the /images endpoints.
func (s *Server) imageRoutes() {}
