package dpop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"net/http"
	"strings"

	"github.com/authsvc/authsvc/dpop"
)

// A client binds its tokens to a key it keeps: it sends a fresh proof in the
// DPoP header of every token request, and of every resource request with
// the token.
func ExampleSigner() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // keep it for the session's whole life
	if err != nil {
		panic(err)
	}
	signer, err := dpop.NewSigner(key, "ES256", nil)
	if err != nil {
		panic(err)
	}

	// Log in: the proof names the token endpoint (JWT_ISSUER + /token).
	proof, err := signer.Proof(http.MethodPost, "https://auth.example.com/token", dpop.ProofOptions{})
	if err != nil {
		panic(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "https://auth.example.com/token",
		strings.NewReader("grant_type=password&username=alice&password=…"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	// … send req; the answer has "token_type":"DPoP" and an access token
	// whose cnf.jkt is signer.JKT().

	// Call an API with the access token: a proof for that request, with ath.
	accessToken := "eyJ…" // from the token response
	proof, err = signer.Proof(http.MethodGet, "https://api.example.com/orders", dpop.ProofOptions{AccessToken: accessToken})
	if err != nil {
		panic(err)
	}
	api, _ := http.NewRequest(http.MethodGet, "https://api.example.com/orders", nil)
	api.Header.Set("Authorization", "DPoP "+accessToken)
	api.Header.Set("DPoP", proof)

	fmt.Println(len(strings.Split(proof, ".")), "JWS parts; key thumbprint of", len(signer.JKT()), "characters")
	// Output: 3 JWS parts; key thumbprint of 43 characters
}

// A server checks a proof against the request it came with, then makes
// sure its jti is used once.
func ExampleChecker() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := dpop.NewSigner(key, "ES256", nil)
	proof, _ := signer.Proof(http.MethodPost, "https://auth.example.com/token", dpop.ProofOptions{})

	checker, err := dpop.NewChecker(dpop.Options{}) // ES256, EdDSA, RS256, PS256; 60 s
	if err != nil {
		panic(err)
	}
	p, err := checker.Check(proof, dpop.Request{Method: http.MethodPost, URL: "https://auth.example.com/token?ignored=1"})
	fmt.Println(err, p.JKT == signer.JKT())

	_, err = checker.Check(proof, dpop.Request{Method: http.MethodPost, URL: "https://auth.example.com/refresh"})
	fmt.Println(err)
	// Output:
	// <nil> true
	// invalid DPoP proof: htu does not match the request URL
}
