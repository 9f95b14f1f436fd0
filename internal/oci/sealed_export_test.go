package oci

// SealedCopy exposes the memfd fallback of Executable to the tests.
var SealedCopy = sealedCopy

// ReadOnlyMount exposes the preferred kind of copy to the tests.
var ReadOnlyMount = readOnlyMount
