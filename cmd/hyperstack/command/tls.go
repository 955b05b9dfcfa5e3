package command

import (
	"crypto/x509"
	"os"
)

// loadCACert reads PEM certificates to verify an https:// endpoint with, instead of the system
// roots; "" means the system roots (nil pool).
func loadCACert(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, flagErrorf("--ca-cert: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, flagErrorf("--ca-cert %s: no PEM certificate in the file", path)
	}
	return pool, nil
}

// caCertUsage is the help text of --ca-cert.
const caCertUsage = "PEM file of the CA (or self-signed certificate) that signs an https:// endpoint's certificate; default: the system roots"
