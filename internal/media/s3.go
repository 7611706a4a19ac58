package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config configures an S3-compatible object store.
type S3Config struct {
	// Endpoint is host[:port] without scheme, e.g. "s3.example.org".
	Endpoint string
	// UseTLS selects https; leave it true outside tests.
	UseTLS    bool
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	// Prefix is put in front of every key ("torget/" keeps a shared bucket
	// tidy). It must itself be empty or end in "/".
	Prefix string
	// PathStyle addresses the bucket in the path (https://host/bucket/key)
	// instead of the host name; most self-hosted stores want it.
	PathStyle bool
	// Transport overrides the HTTP transport (tests, custom CAs).
	Transport http.RoundTripper
}

// S3 is a Storage in a bucket of an S3-compatible object store, so that
// several torget nodes behind one load balancer share their media.
type S3 struct {
	client *minio.Client
	bucket string
	prefix string
}

var _ Storage = (*S3)(nil)

// NewS3 creates the client. It does not contact the store; call Check to
// find out at start-up whether the bucket is reachable.
func NewS3(cfg S3Config) (*S3, error) {
	if cfg.Endpoint == "" || cfg.Bucket == "" {
		return nil, errors.New("media: S3 endpoint and bucket are required")
	}
	if cfg.Prefix != "" && (!strings.HasSuffix(cfg.Prefix, "/") || ValidKey(cfg.Prefix+"x") != nil) {
		return nil, fmt.Errorf("media: S3 prefix %q must be a valid key prefix ending in /", cfg.Prefix)
	}
	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.UseTLS,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("media: S3 client: %w", err)
	}
	return &S3{client: client, bucket: cfg.Bucket, prefix: cfg.Prefix}, nil
}

// Check verifies that the bucket exists and the credentials reach it.
func (s *S3) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("media: S3 bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("media: S3 bucket %s does not exist", s.bucket)
	}
	return nil
}

// Put implements Storage.
func (s *S3) Put(ctx context.Context, key, contentType string, r io.Reader, size int64) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	if err := validContentType(contentType); err != nil {
		return err
	}
	if size == 0 {
		return fmt.Errorf("%w: %s", ErrEmpty, key)
	}
	if size < 0 {
		// An upload of unknown length would go out as a multipart upload
		// in 16 MiB parts; media are small, so read it here instead and
		// send one request of known length.
		data, err := io.ReadAll(io.LimitReader(ctxReader{ctx, r}, MaxUnknownSize+1))
		if err != nil {
			return fmt.Errorf("media: put %s: %w", key, err)
		}
		if len(data) > MaxUnknownSize {
			return fmt.Errorf("media: put %s: more than %d bytes of unknown size", key, MaxUnknownSize)
		}
		if len(data) == 0 {
			return fmt.Errorf("%w: %s", ErrEmpty, key)
		}
		r, size = bytes.NewReader(data), int64(len(data))
	}
	// Note a reader that ends early; one that is longer is found below.
	src := &exactReader{r: io.LimitReader(r, size), want: size}
	_, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, src, size, minio.PutObjectOptions{
		ContentType: contentType,
	})
	if src.short {
		return fmt.Errorf("%w: %s: announced %d bytes, got %d", ErrSizeMismatch, key, size, src.n)
	}
	if err != nil {
		return fmt.Errorf("media: put %s: %w", key, err)
	}
	// Only size bytes were sent; anything after them means the data was
	// longer than announced. Remove the truncated object.
	var one [1]byte
	if n, _ := io.ReadFull(r, one[:]); n > 0 {
		_ = s.Delete(ctx, key)
		return fmt.Errorf("%w: %s: announced %d bytes", ErrSizeMismatch, key, size)
	}
	return nil
}

// Get implements Storage.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, string, error) {
	if err := ValidKey(key); err != nil {
		return nil, "", err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", s.wrap("get", key, err)
	}
	info, err := obj.Stat()
	if err != nil {
		_ = obj.Close()
		return nil, "", s.wrap("get", key, err)
	}
	return obj, info.ContentType, nil
}

// Delete implements Storage.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
			return nil
		}
		return fmt.Errorf("media: delete %s: %w", key, err)
	}
	return nil
}

func (s *S3) wrap(op, key string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("media: %s %s: %w", op, key, err)
}

// MaxUnknownSize bounds a Put of unknown size (-1) to the S3 store, which
// is read into memory first.
const MaxUnknownSize = 64 << 20

// exactReader counts what it delivers and notes an early end.
type exactReader struct {
	r     io.Reader
	want  int64
	n     int64
	short bool
}

func (e *exactReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	e.n += int64(n)
	if err == io.EOF && e.n < e.want {
		e.short = true
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}
