package deploy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAdminScriptMatchesUnit: askbridge-admin gives the commands the same
// variables, naming the same credential files, as the unit gives the
// service.
func TestAdminScriptMatchesUnit(t *testing.T) {
	unit := map[string]string{}  // variable → credential file
	files := map[string]string{} // credential name → file
	for _, d := range directives(t) {
		switch d[0] {
		case "LoadCredential":
			name, path, _ := strings.Cut(d[1], ":")
			files[name] = path
		case "Environment":
			k, v, _ := strings.Cut(d[1], "=")
			if name, ok := strings.CutPrefix(v, "%d/"); ok {
				unit[k] = files[name]
			} else if k == "ASKBRIDGE_STATE_DIR" {
				unit[k] = strings.ReplaceAll(v, "%S", "/var/lib")
			}
		}
	}
	b, err := os.ReadFile("askbridge-admin")
	if err != nil {
		t.Fatal(err)
	}
	script := map[string]string{}
	creds := regexp.MustCompile(`(?m)^creds=(\S+)$`).FindStringSubmatch(string(b))
	if creds == nil {
		t.Fatal("askbridge-admin sets no creds=")
	}
	for _, m := range regexp.MustCompile(`(?m)^export (ASKBRIDGE_\w+)="?([^"\n]+)"?$`).FindAllStringSubmatch(string(b), -1) {
		script[m[1]] = strings.ReplaceAll(m[2], "$creds", creds[1])
	}
	for k, v := range unit {
		if script[k] != v {
			t.Errorf("%s: unit %q, askbridge-admin %q", k, v, script[k])
		}
	}
	for k := range script {
		if _, ok := unit[k]; !ok {
			t.Errorf("askbridge-admin sets %s, the unit does not", k)
		}
	}
	if fi, err := os.Stat("askbridge-admin"); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("askbridge-admin is not executable: %v", err)
	}
}

// lookTool finds an optional checker; the test is skipped without it (CI
// does not install web servers).
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/usr/bin"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode()&0o111 != 0 {
				return filepath.Join(dir, name)
			}
		}
		if os.Getenv("ASKBRIDGE_REQUIRE_RECIPE_TOOLS") != "" {
			t.Fatalf("%s is not installed and ASKBRIDGE_REQUIRE_RECIPE_TOOLS is set (apt-get install -y %s)", name, name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// selfSigned writes a throwaway certificate and key for nginx -t.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "askbridge.library.example.org"},
		DNSNames: []string{"askbridge.library.example.org"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// TestNginxSnippet: `nginx -t` accepts nginx.conf inside an http block,
// with its certificate paths pointing at a throwaway certificate.
func TestNginxSnippet(t *testing.T) {
	nginx := lookTool(t, "nginx")
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	b, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	site := strings.NewReplacer(
		"/etc/letsencrypt/live/askbridge.library.example.org/fullchain.pem", cert,
		"/etc/letsencrypt/live/askbridge.library.example.org/privkey.pem", key,
	).Replace(string(b))
	if site == string(b) {
		t.Fatal("nginx.conf no longer names the certificate paths this test replaces")
	}
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	main := "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\nevents {}\nhttp {\n    access_log off;\n    include " + dir + "/site.conf;\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(nginx, "-t", "-q", "-e", dir+"/error.log", "-p", dir, "-c", dir+"/nginx.conf").CombinedOutput()
	if err != nil {
		t.Errorf("nginx -t: %v\n%s", err, out)
	}
}

// TestCaddyfile: `caddy validate` accepts the Caddyfile (without obtaining
// certificates; its storage goes to a temporary directory).
func TestCaddyfile(t *testing.T) {
	caddy := lookTool(t, "caddy")
	home := t.TempDir()
	cmd := exec.Command(caddy, "validate", "--config", "Caddyfile", "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+home, "XDG_CONFIG_HOME="+home)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Valid configuration") {
		t.Errorf("caddy validate: %v\n%s", err, out)
	}
}
