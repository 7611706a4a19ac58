package activitypub

// This file lists the package's entry points; the implementations live in
// iri.go, decode.go and encode.go.

import "errors"

// Errors returned by decoding and origin checks. Callers map ErrTooLarge to
// 413, ErrMalformed to 400 and ErrOrigin to 403.
var (
	ErrTooLarge  = errors.New("document too large")
	ErrMalformed = errors.New("malformed document")
	ErrOrigin    = errors.New("origin mismatch")
)
