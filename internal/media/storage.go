// Package media stores and processes the images that staff attach to posts.
//
// It has two halves that the compose UI ties together later:
//
//   - Storage, a small key/value interface for blobs with a content type, with
//     a local-directory implementation (the default) and an S3-compatible one
//     for sites served by several nodes. Keys carry no URL: how a stored blob
//     is served is decided elsewhere.
//   - Process, which checks an upload (real type sniffed from its bytes, size
//     and pixel limits enforced before any pixel is decoded), strips all
//     metadata by re-encoding, applies the EXIF orientation of JPEGs, and
//     produces the sizes and the blurhash that federate with a post.
//
// The package depends on no other torget package.
package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
)

// ErrNotFound is returned by Storage.Get when no object has the key.
var ErrNotFound = errors.New("media: not found")

// ErrBadKey is returned (wrapped) for a key that ValidKey refuses.
var ErrBadKey = errors.New("media: invalid storage key")

// ErrSizeMismatch is returned (wrapped) by Put when the reader does not
// deliver exactly the announced number of bytes.
var ErrSizeMismatch = errors.New("media: size does not match the data")

// ErrEmpty is returned (wrapped) by Put for an object without data; no
// media file is empty, and some object stores refuse empty uploads.
var ErrEmpty = errors.New("media: empty object")

// Storage keeps blobs under keys. Implementations are safe for concurrent use.
type Storage interface {
	// Put stores the data of r under key, replacing any earlier object.
	// size is the exact number of bytes r delivers, or -1 when unknown.
	// A reader delivering a different number of bytes is an error
	// (ErrSizeMismatch) and leaves no partial object behind; so is an
	// empty object (ErrEmpty).
	Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error
	// Get opens the object stored under key together with its content type.
	// The caller closes the reader. A missing key gives ErrNotFound.
	Get(ctx context.Context, key string) (io.ReadCloser, string, error)
	// Delete removes the object under key. Deleting a missing key is not an
	// error, so that retries are harmless.
	Delete(ctx context.Context, key string) error
}

// MaxKeyLen is the longest key that ValidKey accepts.
const MaxKeyLen = 512

// ValidKey reports whether key may be used with a Storage. A key is one or
// more segments separated by "/"; each segment is made of ASCII letters,
// digits, '.', '_' and '-', and does not start with '.' (so "." and ".."
// are impossible, as are hidden files and the temp files of the local
// store). Empty segments (leading, trailing or doubled "/") are refused.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrBadKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: longer than %d bytes", ErrBadKey, MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("%w: %q has an empty segment", ErrBadKey, key)
		}
		if seg[0] == '.' {
			return fmt.Errorf("%w: %q has a segment starting with '.'", ErrBadKey, key)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				c == '.' || c == '_' || c == '-'
			if !ok {
				return fmt.Errorf("%w: %q contains %q", ErrBadKey, key, c)
			}
		}
	}
	return nil
}

// maxContentTypeLen bounds the stored content type.
const maxContentTypeLen = 255

// validContentType accepts a parseable media type without line breaks.
func validContentType(ct string) error {
	if ct == "" || len(ct) > maxContentTypeLen || strings.ContainsAny(ct, "\r\n") {
		return fmt.Errorf("media: invalid content type %q", ct)
	}
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		return fmt.Errorf("media: invalid content type %q: %w", ct, err)
	}
	return nil
}
