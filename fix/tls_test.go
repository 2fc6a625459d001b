package fix_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"venue/config"
	"venue/server"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "venue test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSOrderEntry: with fix.tls_cert_file and fix.tls_key_file set, order
// entry speaks TLS: a TLS client logs on; a plain-TCP client gets nothing.
func TestTLSOrderEntry(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.FIX.OrderEntryAddr, cfg.FIX.DropCopyAddr, cfg.FIX.MarketDataAddr, cfg.Ops.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.FIX.TLSCertFile, cfg.FIX.TLSKeyFile = certFile, keyFile
	cfg.Database.URL = "postgres://postgres@127.0.0.1:1/none?sslmode=disable"
	cfg.Log.Level = "warn"
	srv, err := server.Start(&cfg, server.Options{Dev: true, BcryptCost: 4, ClockTick: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cfg.FIX.OrderEntryAddr = srv.OEAcc.Addr().String()

	conn, err := tls.Dial("tcp", cfg.FIX.OrderEntryAddr, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer conn.Close()
	body := fmt.Sprintf("35=A\x0149=FIRM_A\x0156=VENUE\x0134=1\x0152=%s\x0198=0\x01108=30\x01141=Y\x01553=FIRM_A\x01554=firm_a\x01",
		time.Now().UTC().Format("20060102-15:04:05.000"))
	if _, err := conn.Write(frame(body)); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 4096)
	got := ""
	for !strings.Contains(got, "\x0110=") {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("TLS logon: %v (got %q)", err, got)
		}
		got += string(buf[:n])
	}
	if !strings.Contains(got, "\x0135=A\x01") {
		t.Fatalf("TLS logon answered %q", strings.ReplaceAll(got, "\x01", "|"))
	}

	// Plain TCP on the TLS port: the handshake never completes, no FIX.
	plain, err := net.Dial("tcp", cfg.FIX.OrderEntryAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, err := plain.Write(frame(strings.Replace(body, "FIRM_A", "FIRM_B", 2))); err != nil {
		t.Fatal(err)
	}
	_ = plain.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _ := plain.Read(buf)
	if strings.Contains(string(buf[:n]), "35=A") {
		t.Fatal("a plain-TCP Logon was answered on the TLS port")
	}
}
