// Package mediatest serves an in-memory S3-compatible object store on
// loopback for tests of the S3 media storage (and of several torget nodes
// sharing one bucket).
package mediatest

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3Server starts the store with the given bucket and returns its
// endpoint (host:port, plain HTTP, path-style addressing, any credentials).
// It stops when the test ends.
func S3Server(t testing.TB, bucket string) string {
	t.Helper()
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(srv.URL, "http://")
}
