package api

import "pea/internal/remote"

// routes registers every endpoint (paths without the version prefix).
func (s *Server) routes() {
	s.route("GET", "/_ping", s.getPing)
	s.route("HEAD", "/_ping", s.getPing)
	s.route("GET", "/version", s.getVersion)
	s.route("GET", "/info", s.getInfo)
	s.route("POST", "/auth", s.postAuth)
	s.route("GET", "/system/df", s.getSystemDF)
	s.route("GET", "/events", s.getEvents)
	s.mux.HandleFunc("POST "+remote.Path, s.postRemoteCLI) // pea's remote client (remote_cli.go)

	s.route("POST", "/containers/create", s.postContainersCreate)
	s.route("GET", "/containers/json", s.getContainersList)
	s.route("GET", "/containers/{id}/json", s.getContainerInspect)
	s.route("POST", "/containers/{id}/start", s.postContainerStart)
	s.route("POST", "/containers/{id}/attach", s.postContainerAttach)
	s.route("POST", "/containers/{id}/wait", s.postContainerWait)
	s.route("POST", "/containers/{id}/stop", s.postContainerStop)
	s.route("POST", "/containers/{id}/restart", s.postContainerRestart)
	s.route("POST", "/containers/{id}/kill", s.postContainerKill)
	s.route("POST", "/containers/{id}/pause", s.postContainerPause(true))
	s.route("POST", "/containers/{id}/unpause", s.postContainerPause(false))
	s.route("POST", "/containers/{id}/rename", s.postContainerRename)
	s.route("POST", "/containers/{id}/resize", s.postContainerResize)
	s.route("GET", "/containers/{id}/top", s.getContainerTop)
	s.route("POST", "/containers/{id}/update", s.postContainerUpdate)
	s.route("GET", "/containers/{id}/logs", s.getContainerLogs)
	s.route("GET", "/containers/{id}/stats", s.getContainerStats)
	s.route("DELETE", "/containers/{id}", s.deleteContainer)
	s.route("GET", "/containers/{id}/changes", s.getContainerChanges)
	s.route("GET", "/containers/{id}/export", s.getContainerExport)
	s.route("POST", "/containers/prune", s.postContainersPrune)
	s.route("POST", "/commit", s.postCommit)
	s.route("HEAD", "/containers/{id}/archive", s.headContainerArchive)
	s.route("GET", "/containers/{id}/archive", s.getContainerArchive)
	s.route("PUT", "/containers/{id}/archive", s.putContainerArchive)

	s.imageRoutes()   // images.go
	s.execRoutes()    // exec.go
	s.networkRoutes() // networks.go
	s.volumeRoutes()  // volumes.go
	s.libpodRoutes()  // libpod.go
}
