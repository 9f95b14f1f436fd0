package oci

// SealedCopy exposes the memfd fallback of Executable to the tests.
var SealedCopy = sealedCopy
