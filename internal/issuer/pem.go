package issuer

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ParsePrivateKeyPEM parses the first private key in PEM data: PKCS#8
// ("PRIVATE KEY": RSA, ECDSA or Ed25519), PKCS#1 ("RSA PRIVATE KEY") or SEC 1
// ("EC PRIVATE KEY"). Other blocks before it, such as "EC PARAMETERS" or a
// certificate, are skipped. Encrypted keys are not supported. Whether the key
// suits the configured algorithm is checked by New. Errors never contain key
// material.
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("parse private key: no PEM private key block found")
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, errors.New("parse private key: encrypted PEM keys are not supported")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse private key: %s block: %w", block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("parse private key: %T cannot sign", key)
		}
		return signer, nil
	}
}

// ParsePublicKeyPEM parses the first public key in PEM data: PKIX ("PUBLIC
// KEY"), PKCS#1 ("RSA PUBLIC KEY"), or the key of a certificate
// ("CERTIFICATE"). Unrelated blocks before it are skipped; a private key block
// is an error, so a private key is never published by mistake. Whether the
// key suits the configured algorithm is checked by New.
func ParsePublicKeyPEM(data []byte) (crypto.PublicKey, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("parse public key: no PEM public key or certificate block found")
		}
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse public key: PUBLIC KEY block: %w", err)
			}
			return k, nil
		case "RSA PUBLIC KEY":
			k, err := x509.ParsePKCS1PublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse public key: RSA PUBLIC KEY block: %w", err)
			}
			return k, nil
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse public key: CERTIFICATE block: %w", err)
			}
			return c.PublicKey, nil
		default:
			if strings.Contains(block.Type, "PRIVATE KEY") {
				return nil, errors.New("parse public key: found a private key, expected a public key or certificate")
			}
		}
	}
}
