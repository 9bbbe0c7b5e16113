// Package webauthntest helps tests drive WebAuthn ceremonies with
// descope/virtualwebauthn. Import it only from tests.
package webauthntest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"

	"github.com/descope/virtualwebauthn"
)

// NewEC2Credential returns a P-256 credential that encodes correctly.
//
// virtualwebauthn.NewCredential(KeyTypeEC2) writes a coordinate that
// starts with a zero byte one byte short, so about one key in 128 is
// malformed and makes a test flaky; this skips such keys.
func NewEC2Credential() virtualwebauthn.Credential {
	for {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		pub, err := k.PublicKey.Bytes() // 0x04, X, Y
		if err != nil {
			panic(err)
		}
		if pub[1] == 0 || pub[33] == 0 {
			continue
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			panic(err)
		}
		return virtualwebauthn.NewCredentialWithImportedKey(virtualwebauthn.KeyTypeEC2, der)
	}
}
