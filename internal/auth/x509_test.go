package auth

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/zkgo/zkgo/wire"
)

// The expected names below are what Java 17's
// X500Principal(der).getName() prints for the same DER (checked with
// OpenJDK 17.0.15; \u escapes stand for the characters Java returns).
func TestX509NameMatchesJava(t *testing.T) {
	for _, tc := range []struct{ der, want string }{
		{"MDwxCzAJBgNVBAYTAlVTMQ0wCwYDVQQKDAR6a2dvMQ0wCwYDVQQLDAR0ZXN0MQ8wDQYDVQQDDAZjbGllbnQ=", `CN=client,OU=test,O=zkgo,C=US`},
		{"MAA=", ``},
		{"MB4xHDAaBgNVBAMME2EsYitjPWQ8ZT5mI2c7aCJpXGo=", `CN=a\,b\+c\=d\<e\>f\#g\;h\"i\\j`},
		{"MEoxDjAMBgNVBAMMBSBsZWFkMQ8wDQYDVQQDDAZ0cmFpbCAxDjAMBgNVBAMMBSNoYXNoMQswCQYDVQQDDAIgIDEKMAgGA1UEAwwBIA==", `CN=\ ,CN=\ \ ,CN=\#hash,CN=trail\ ,CN=\ lead`},
		{"MCExHzAdBgNVBAMMFmjDqWxsbyB3w7ZybGQg4piDIPCdhJ4=", "CN=h\u00e9llo w\u00f6rld \u2603 \U0001D11E"},
		// A BMPString is decoded as UTF-8 all the same.
		{"MBkxFzAVBgNVBAMeDgBiAG0AcAAgAOkAICYD", "CN=\\00b\\00m\\00p\\00 \\00\ufffd\\00 &\u0003"},
		// UniversalString and VisibleString are written in hex.
		{"MCMxITAfBgNVBAMcGAAAAHUAAABuAAAAaQAAAHYAAAAgAAAA6Q==", `CN=#1c18000000750000006e000000690000007600000020000000e9`},
		{"MBAxDjAMBgNVBAMWBWlhNUB4", `CN=ia5@x`},
		{"MA8xDTALBgNVBAMUBHQ2Mek=", "CN=t61\ufffd"},
		{"MBIxEDAOBgNVBAMaB3Zpc2libGU=", `CN=#1a0776697369626c65`},
		{"MBIxEDAOBgNVBAMbB2dlbmVyYWw=", `CN=general`},
		{"MEQxEzARBgoJkiaJk/IsZAEZFgNjb20xFzAVBgoJkiaJk/IsZAEZFgdleGFtcGxlMRQwEgYKCZImiZPyLGQBAQwEamRvZQ==", `UID=jdoe,DC=example,DC=com`},
		{"MHMxFDASBgkqhkiG9w0BCQEWBWFAYi5jMQ0wCwYDVQQFEwQxMjM0MQ4wDAYDVQQRDAUxMjM0NTELMAkGA1UEDAwCRHIxEDAOBgNVBAkMB01haW4gU3QxDTALBgNVBAcMBFRvd24xDjAMBgNVBAgMBVN0YXRl",
			`ST=State,L=Town,STREET=Main St,2.5.4.12=#0c024472,2.5.4.17=#0c053132333435,2.5.4.5=#130431323334,1.2.840.113549.1.9.1=#16056140622e63`},
		{"MDUxHTAMBgNVBAMMBW11bHRpMA0GA1UECwwGdmFsdWVkMRQwCAYDVQQDDAFhMAgGA1UECwwBYg==", `CN=a+OU=b,CN=multi+OU=valued`},
		// A multi-valued name keeps its encoded order, even unsorted.
		{"MBYxFDAIBgNVBAsMAWIwCAYDVQQDDAFh", `OU=b+CN=a`},
		{"MBExDzANBgMqAwQMBmN1c3RvbQ==", `1.2.3.4=#0c06637573746f6d`},
		{"MBcxFTATBgNVBAMMDHRhYgloZXJlDQpubA==", "CN=tab\there\r\nnl"},
		{"MAwxCjAIBgNVBAMMAQ0=", "CN=\\\r"},
		{"MA4xDDAKBgNVBAMMA3gAeQ==", `CN=x\00y`},
		{"MAwxCjAIBgNVBAMCAQU=", `CN=#020105`},
		{"MAwxCjAIBgNVBAMMAT0=", `CN=\=`},
		// Malformed UTF-8, replaced as Java's decoder replaces it.
		{"MA8xDTALBgNVBAMMBEHwn0I=", "CN=A\ufffdB"},
		{"MA8xDTALBgNVBAMMBEHimEI=", "CN=A\ufffdB"},
		{"MA4xDDAKBgNVBAMMA8CvWA==", "CN=\ufffd\ufffdX"},
		{"MA8xDTALBgNVBAMMBO2ggFk=", "CN=\ufffdY"},
		{"MBAxDjAMBgNVBAMMBfSQgIBa", "CN=\ufffd\ufffd\ufffd\ufffdZ"},
		{"MA4xDDAKBgNVBAMMA//+Vw==", "CN=\ufffd\ufffdW"},
		{"MA4xDDAKBgNVBAMMA4CAVg==", "CN=\ufffd\ufffdV"},
		{"MA4xDDAKBgNVBAMMA/CfmA==", "CN=\ufffd"},
	} {
		der, err := base64.StdEncoding.DecodeString(tc.der)
		if err != nil {
			t.Fatal(err)
		}
		got, err := X509Name(der)
		if err != nil {
			t.Errorf("%s: %v", tc.der, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.der, got, tc.want)
		}
	}
}

func TestX509NameOfPkixName(t *testing.T) {
	name := pkix.Name{CommonName: "client", OrganizationalUnit: []string{"test"}, Organization: []string{"zkgo"}}
	der, err := asn1.Marshal(name.ToRDNSequence())
	if err != nil {
		t.Fatal(err)
	}
	got, err := X509Name(der)
	eq(t, "err", err, nil)
	eq(t, "name", got, "CN=client,OU=test,O=zkgo")
	if _, err := X509Name([]byte{0x30, 0x05, 0x31}); err == nil {
		t.Error("truncated name: no error")
	}
	if _, err := X509Name(append(der, 0)); err == nil {
		t.Error("trailing byte: no error")
	}
}

func TestX509Identities(t *testing.T) {
	der, _ := hex.DecodeString("3011310f300d06035504030c06636c69656e74") // CN=client
	ids, err := X509Identities(der, "")
	eq(t, "err", err, nil)
	eq(t, "ids", ids, []wire.Id{{Scheme: "x509", ID: "CN=client"}})
	ids, _ = X509Identities(der, "CN=other")
	eq(t, "other super", ids, []wire.Id{{Scheme: "x509", ID: "CN=client"}})
	ids, _ = X509Identities(der, "CN=client")
	eq(t, "super", ids, []wire.Id{{Scheme: "super", ID: "CN=client"}, {Scheme: "x509", ID: "CN=client"}})
}

// The verdicts are Java 17's: new X500Principal(id) parses (true) or
// throws IllegalArgumentException (false).
func TestValidX509IDMatchesJava(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"CN=client,OU=test,O=zkgo", true},
		{"cn=client, ou=test", true},
		{"CN=client;OU=test", true},
		{"CN = client , OU = test", true},
		{"", true},
		{"   ", false},
		{"foo", false},
		{"CN=", true},
		{"CN=a,", false},
		{",CN=a", false},
		{"CN=a,,OU=b", false},
		{"XYZ=abc", false},
		{"OID.2.5.4.3=abc", true},
		{"oid.2.5.4.3=a", true},
		{"2.5.4.3=abc", true},
		{"1=abc", false},
		{"3.1=a", false},
		{"1.40=a", false},
		{"1.39=a", true},
		{"2.40.1=a", true},
		{"01.2=a", true},
		{"2.5.4.3.=a", false},
		{"OID.CN=a", false},
		{"2.5.4.3=#0c03616263", true},
		{"2.5.4.3=#0c0361626", false},
		{"CN=#0c03616263 ", false},
		{"CN=#0c0361626364", false},
		{"CN=#3000", true},
		{"CN=#00", false},
		{"CN=#zz", false},
		{"CN=#", false},
		{`CN="quoted, value"`, true},
		{`CN="unterminated`, false},
		{`CN="a\"b"`, true},
		{`CN="a\zb"`, false},
		{`CN="a<b"`, true},
		{`CN="a""`, false},
		{`CN="a"b`, false},
		{`CN="a" `, true},
		{`CN=""`, true},
		{`CN=a"b`, false},
		{"CN=a=b", true},
		{`CN=a\=b`, true},
		{`CN=a\zb`, false},
		{`CN=a\41b`, true},
		{`CN=a\4`, false},
		{`CN=a\`, false},
		{"CN=a<b", false},
		{"CN=a>b", false},
		{`CN=a\<b`, true},
		{"CN=a#b", true},
		{"CN=a+OU=b", true},
		{"cN=a + ou=b", true},
		{"CN=a+", false},
		{"C N=a", false},
		{"=a", false},
		{"EMAILADDRESS=a@b.c", true},
		{"SERIALNUMBER=12", true},
		{"S=state", true},
		{"IP=1.2.3.4", true},
		{`CN=a\ `, true},
		{"CN=\u00e4", true},
		{`CN=\c3\a4`, true},
		{`CN=\ff`, true},
	} {
		if got := ValidX509ID(tc.id); got != tc.ok {
			t.Errorf("ValidX509ID(%q) = %v, want %v", tc.id, got, tc.ok)
		}
	}
}
