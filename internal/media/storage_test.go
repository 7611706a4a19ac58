package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/torget/torget/internal/media/mediatest"
)

// storages returns each implementation, fresh, for the shared table.
func storages(t *testing.T) map[string]Storage {
	t.Helper()
	local, err := NewLocal(filepath.Join(t.TempDir(), "media"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = local.Close() })
	return map[string]Storage{
		"local": local,
		"s3":    newFakeS3(t, "torget/"),
	}
}

// newFakeS3 serves an in-memory S3-compatible store on loopback, used only
// by tests, and returns an S3 storage talking to it.
func newFakeS3(t *testing.T, prefix string) *S3 {
	t.Helper()
	s, err := NewS3(S3Config{
		Endpoint:  mediatest.S3Server(t, "media"),
		Region:    "us-east-1",
		Bucket:    "media",
		AccessKey: "test",
		SecretKey: "test-secret",
		Prefix:    prefix,
		PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func readAll(t *testing.T, s Storage, key string) ([]byte, string) {
	t.Helper()
	rc, ct, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b, ct
}

func TestStorage(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, s Storage)
	}{
		{"write and read back", func(t *testing.T, s Storage) {
			data := bytes.Repeat([]byte("pixels\x00\xff"), 1000)
			if err := s.Put(ctx, "g/2026/a.jpg", "image/jpeg", bytes.NewReader(data), int64(len(data))); err != nil {
				t.Fatal(err)
			}
			got, ct := readAll(t, s, "g/2026/a.jpg")
			if !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes, want %d", len(got), len(data))
			}
			if ct != "image/jpeg" {
				t.Fatalf("content type %q", ct)
			}
		}},
		{"unknown size", func(t *testing.T, s Storage) {
			if err := s.Put(ctx, "u.png", "image/png", strings.NewReader("abc"), -1); err != nil {
				t.Fatal(err)
			}
			got, ct := readAll(t, s, "u.png")
			if string(got) != "abc" || ct != "image/png" {
				t.Fatalf("got %q %q", got, ct)
			}
		}},
		{"empty object refused", func(t *testing.T, s Storage) {
			for _, size := range []int64{0, -1} {
				if err := s.Put(ctx, "empty", "application/octet-stream", strings.NewReader(""), size); !errors.Is(err, ErrEmpty) {
					t.Fatalf("size %d: %v, want ErrEmpty", size, err)
				}
			}
			if _, _, err := s.Get(ctx, "empty"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("empty object stored: %v", err)
			}
		}},
		{"overwrite replaces data and type", func(t *testing.T, s Storage) {
			if err := s.Put(ctx, "o.bin", "image/png", strings.NewReader("first, longer"), 13); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, "o.bin", "image/jpeg", strings.NewReader("second"), 6); err != nil {
				t.Fatal(err)
			}
			got, ct := readAll(t, s, "o.bin")
			if string(got) != "second" || ct != "image/jpeg" {
				t.Fatalf("got %q %q", got, ct)
			}
		}},
		{"delete", func(t *testing.T, s Storage) {
			if err := s.Put(ctx, "d/x", "text/plain", strings.NewReader("x"), 1); err != nil {
				t.Fatal(err)
			}
			if err := s.Delete(ctx, "d/x"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Get(ctx, "d/x"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("get after delete: %v", err)
			}
			if err := s.Delete(ctx, "d/x"); err != nil {
				t.Fatalf("second delete: %v", err)
			}
		}},
		{"missing key", func(t *testing.T, s Storage) {
			for _, k := range []string{"nope", "no/such/dir/file", "d"} {
				if _, _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) {
					t.Fatalf("get %s: %v, want ErrNotFound", k, err)
				}
			}
		}},
		{"prefix of a longer key is not an object", func(t *testing.T, s Storage) {
			if err := s.Put(ctx, "p/q/r", "text/plain", strings.NewReader("r"), 1); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Get(ctx, "p/q"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("get p/q: %v", err)
			}
			if err := s.Delete(ctx, "p/q"); err != nil {
				t.Fatalf("delete p/q: %v", err)
			}
			if got, _ := readAll(t, s, "p/q/r"); string(got) != "r" {
				t.Fatalf("p/q/r = %q", got)
			}
		}},
		{"size mismatch refused", func(t *testing.T, s Storage) {
			if err := s.Put(ctx, "short", "text/plain", strings.NewReader("abc"), 10); !errors.Is(err, ErrSizeMismatch) {
				t.Fatalf("short reader: %v", err)
			}
			if err := s.Put(ctx, "long", "text/plain", strings.NewReader("abcdef"), 3); !errors.Is(err, ErrSizeMismatch) {
				t.Fatalf("long reader: %v", err)
			}
			for _, k := range []string{"short", "long"} {
				if _, _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) {
					t.Fatalf("%s left behind: %v", k, err)
				}
			}
		}},
		{"bad keys refused", func(t *testing.T, s Storage) {
			for _, k := range badKeys {
				if err := s.Put(ctx, k, "text/plain", strings.NewReader("x"), 1); !errors.Is(err, ErrBadKey) {
					t.Errorf("put %q: %v", k, err)
				}
				if _, _, err := s.Get(ctx, k); !errors.Is(err, ErrBadKey) {
					t.Errorf("get %q: %v", k, err)
				}
				if err := s.Delete(ctx, k); !errors.Is(err, ErrBadKey) {
					t.Errorf("delete %q: %v", k, err)
				}
			}
		}},
		{"bad content type refused", func(t *testing.T, s Storage) {
			for _, ct := range []string{"", "image/png\nX-Evil: 1", "not a type"} {
				if err := s.Put(ctx, "ct", ct, strings.NewReader("x"), 1); err == nil {
					t.Errorf("content type %q accepted", ct)
				}
			}
		}},
		{"concurrent overwrites are never seen half-written", func(t *testing.T, s Storage) {
			contents := make([][]byte, 4)
			for i := range contents {
				contents[i] = bytes.Repeat([]byte{byte('a' + i)}, 64<<10)
			}
			if err := s.Put(ctx, "race", "text/plain", bytes.NewReader(contents[0]), int64(len(contents[0]))); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 64)
			for i, c := range contents {
				wg.Add(2)
				go func() {
					defer wg.Done()
					for range 5 {
						if err := s.Put(ctx, "race", "text/plain", bytes.NewReader(c), int64(len(c))); err != nil {
							errs <- err
						}
					}
				}()
				go func() {
					defer wg.Done()
					for range 5 {
						rc, _, err := s.Get(ctx, "race")
						if err != nil {
							errs <- fmt.Errorf("reader %d: %w", i, err)
							continue
						}
						b, err := io.ReadAll(rc)
						_ = rc.Close()
						if err != nil {
							errs <- err
						} else if len(b) != len(c) || !bytes.Equal(b, bytes.Repeat(b[:1], len(b))) {
							errs <- fmt.Errorf("reader %d saw a mixed or partial object (%d bytes)", i, len(b))
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		}},
		{"cancelled context", func(t *testing.T, s Storage) {
			c, cancel := context.WithCancel(ctx)
			cancel()
			if err := s.Put(c, "c", "text/plain", strings.NewReader("x"), 1); err == nil {
				t.Fatal("put with cancelled context succeeded")
			}
		}},
	}
	for name, s := range storages(t) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) { tt.run(t, s) })
		}
	}
}

var badKeys = []string{
	"", "/abs", "../etc/passwd", "a/../../b", "a/./b", "./a", "a/", "a//b",
	".hidden", "a/.tmp-123", `a\b`, "a b", "a\x00b", "ä.jpg", "a?b", "%2e%2e/x",
	strings.Repeat("a", MaxKeyLen+1),
}

func TestValidKey(t *testing.T) {
	for _, k := range []string{"a", "a.jpg", "g/2026/11/abc-DEF_1.webp", "x..y", strings.Repeat("a", MaxKeyLen)} {
		if err := ValidKey(k); err != nil {
			t.Errorf("ValidKey(%q) = %v", k, err)
		}
	}
	for _, k := range badKeys {
		if err := ValidKey(k); !errors.Is(err, ErrBadKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrBadKey", k, err)
		}
	}
}

func TestLocalLeavesNoTempFilesAndStaysInside(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "store")
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	ctx := context.Background()
	if err := l.Put(ctx, "a/b.png", "image/png", strings.NewReader("png"), 3); err != nil {
		t.Fatal(err)
	}
	_ = l.Put(ctx, "a/c.png", "image/png", strings.NewReader("png"), 99) // fails
	entries, err := os.ReadDir(filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "b.png" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only b.png", names)
	}

	// A symbolic link planted inside the store must not lead outside it.
	secret := filepath.Join(base, "secret")
	if err := os.WriteFile(secret, []byte(localMagic+"text/plain\nsecret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(base, filepath.Join(dir, "link")); err != nil {
		t.Fatal("create symlink:", err)
	}
	if _, _, err := l.Get(ctx, "link/secret"); err == nil {
		t.Fatal("read through a symlink out of the store")
	}
	if err := l.Put(ctx, "link/new", "text/plain", strings.NewReader("x"), 1); err == nil {
		t.Fatal("wrote through a symlink out of the store")
	}
	if _, err := os.Stat(filepath.Join(base, "new")); err == nil {
		t.Fatal("file created outside the store")
	}
}

func TestS3PrefixIsolatesKeys(t *testing.T) {
	if _, err := NewS3(S3Config{Endpoint: "x", Bucket: "b", Prefix: "no-slash"}); err == nil {
		t.Fatal("prefix without trailing slash accepted")
	}
	if _, err := NewS3(S3Config{Endpoint: "x", Bucket: "b", Prefix: "../"}); err == nil {
		t.Fatal("prefix ../ accepted")
	}
}
