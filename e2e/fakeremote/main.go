// Command fakeremote is the browser tests' fediverse peer: an in-process
// fedtest server that signs and verifies like Mastodon, serving its actors
// and notes over HTTPS. When asked on its loopback control port, it sends
// real signed Create activities to a torget group, exactly as a resident's
// server would; torget fetches the author and verifies the signature as it
// does in production. It is test tooling under e2e/, never part of torget.
//
//	fakeremote -ca-out FILE    writes the CA of its TLS certificate to FILE
//	                           and prints "control http://127.0.0.1:PORT"
//	GET /send?group=IRI&user=NAME&text=TEXT  → {"id": note IRI, "status": code}
package main

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/torget/torget/internal/fedtest"
)

// tb satisfies the testing.TB fedtest wants outside a test: failures end
// the process, clean-ups run never (the process is killed at the end).
type tb struct{ testing.TB }

func (tb) Helper()                           {}
func (tb) Cleanup(func())                    {}
func (tb) Fatalf(format string, args ...any) { log.Fatalf(format, args...) }
func (tb) Fatal(args ...any)                 { log.Fatal(args...) }
func (tb) Errorf(format string, args ...any) { log.Printf(format, args...) }
func (tb) Logf(format string, args ...any)   { log.Printf(format, args...) }

func main() {
	caOut := flag.String("ca-out", "", "write the PEM certificate torget must trust here")
	flag.Parse()
	if *caOut == "" {
		log.Fatal("fakeremote: -ca-out is required")
	}
	users := []string{"bertil", "cecilia", "david", "eva", "filip"}
	peer := fedtest.NewServer(tb{}, fedtest.Options{Users: users})
	// httptest TLS servers share one certificate: this one is the peer's.
	ref := httptest.NewTLSServer(http.NotFoundHandler())
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ref.Certificate().Raw})
	ref.Close()
	if err := os.WriteFile(*caOut, cert, 0o600); err != nil {
		log.Fatal(err)
	}
	var seq atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/send", func(w http.ResponseWriter, r *http.Request) {
		group, user, text := r.URL.Query().Get("group"), r.URL.Query().Get("user"), r.URL.Query().Get("text")
		if !strings.HasPrefix(group, "http") || text == "" {
			http.Error(w, "group and text are required", http.StatusBadRequest)
			return
		}
		if user == "" {
			user = users[0]
		}
		name := fmt.Sprintf("e2e-%d", seq.Add(1))
		note := peer.Note(user, name, "", "<p>"+strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(text)+"</p>", group)
		code, body, err := peer.Send(context.Background(), user, group+"/inbox", peer.Wrap("Create", user, note))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": note["id"], "status": code, "body": string(body)})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("control http://%s\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}
