package api

// execSession is an exec instance: created by POST /containers/{id}/exec, run by
// POST /exec/{id}/start, inspected by GET /exec/{id}/json.
type execSession struct{}

// execRoutes registers the exec endpoints.
func (s *Server) execRoutes() {}
