/* test_policy_net.c: IP/CIDR parsing and formatting, domain and address patterns. */
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "tap.h"

/* Parse then format; returns the text form, or "ERR: why" on a parse failure. */
static const char *roundtrip(const char *s, char *buf, size_t len)
{
	struct ag_ip ip;
	const char *why = NULL;

	if (net_parse_ip(s, &ip, &why) < 0) {
		snprintf(buf, len, "ERR: %s", why ? why : "(no why)");
		return buf;
	}
	if (net_format_ip(&ip, buf, len) < 0)
		snprintf(buf, len, "ERR: format");
	return buf;
}

static int parse_ip(const char *s)
{
	struct ag_ip ip;
	const char *why = NULL;
	int rc = net_parse_ip(s, &ip, &why);

	/* A failure must always explain itself. */
	if (rc < 0 && why == NULL)
		return -2;
	return rc;
}

static bool ip_in(const char *ip_text, const char *cidr_text)
{
	struct ag_ip ip;
	struct ag_cidr c;
	const char *why;

	if (net_parse_ip(ip_text, &ip, &why) < 0 || net_parse_cidr(cidr_text, &c, &why) < 0)
		return false;
	return net_cidr_match(&c, &ip);
}

static const char *cidr_why(const char *s)
{
	struct ag_cidr c;
	const char *why = NULL;

	if (net_parse_cidr(s, &c, &why) == 0)
		return "(accepted)";
	return why ? why : "(no why)";
}

static void test_ipv4(void)
{
	struct ag_ip ip;
	const char *why = NULL;
	char buf[AG_IP_STRLEN + 16];

	ok(net_parse_ip("192.0.2.1", &ip, &why) == 0, "v4: 192.0.2.1 parses");
	ok(net_ip_is_v4(&ip), "v4: stored v4-mapped");
	ok(ip.addr[10] == 0xff && ip.addr[11] == 0xff && ip.addr[12] == 192 && ip.addr[15] == 1,
	   "v4: bytes are ::ffff:c000:201");
	is_str(roundtrip("0.0.0.0", buf, sizeof(buf)), "0.0.0.0", "v4: 0.0.0.0 round trip");
	is_str(roundtrip("255.255.255.255", buf, sizeof(buf)), "255.255.255.255",
	       "v4: broadcast round trip");
	is_int(parse_ip("1.2.3"), -1, "v4: 1.2.3 rejected");
	is_int(parse_ip("1.2.3.4.5"), -1, "v4: 1.2.3.4.5 rejected");
	is_int(parse_ip("256.1.1.1"), -1, "v4: 256.1.1.1 rejected");
	is_int(parse_ip("1.2.3.1000"), -1, "v4: 4-digit part rejected");
	is_int(parse_ip("+1.2.3.4"), -1, "v4: leading + rejected");
	is_int(parse_ip("1..2.3"), -1, "v4: empty part rejected");
	is_int(parse_ip("1.2.3.4."), -1, "v4: trailing dot rejected");
	is_int(parse_ip(" 1.2.3.4"), -1, "v4: leading space rejected");
	is_int(parse_ip(""), -1, "v4: empty string rejected");
	why = NULL;
	ok(net_parse_ip("10.0.0.010", &ip, &why) < 0 && why && strstr(why, "octal"),
	   "v4: leading zero rejected as ambiguous octal");
	is_str(roundtrip("10.0.0.0", buf, sizeof(buf)), "10.0.0.0", "v4: single 0 part is fine");
	why = NULL;
	ok(net_parse_ip("::ffff:10.0.0.010", &ip, &why) < 0 && why && strstr(why, "octal"),
	   "v6: a leading zero in the dotted tail is named too");
	why = NULL;
	ok(net_parse_ip(".1.2.3", &ip, &why) < 0 && why != NULL, "v4: leading dot rejected");
	ok(net_parse_ip(":.0", &ip, &why) < 0 && why != NULL, "v6: colon then dot rejected");
	ok(!net_ip_is_v4(NULL), "v4: is_v4(NULL) is false");
}

static void test_ipv6(void)
{
	struct ag_ip ip;
	const char *why = NULL;
	char buf[AG_IP_STRLEN + 16];

	is_int(parse_ip(":::"), -1, "v6: ::: rejected");
	is_int(parse_ip("1::2::3"), -1, "v6: two :: rejected");
	is_str(roundtrip("::", buf, sizeof(buf)), "::", "v6: :: is the unspecified address");
	is_str(roundtrip("::1", buf, sizeof(buf)), "::1", "v6: ::1 round trip");
	ok(net_parse_ip("::1", &ip, &why) == 0 && !net_ip_is_v4(&ip) && ip.addr[15] == 1,
	   "v6: ::1 is not v4");
	why = NULL;
	ok(net_parse_ip("fe80::1%eth0", &ip, &why) < 0 && why && strstr(why, "zone"),
	   "v6: zone id rejected");
	is_int(parse_ip("1:2:3:4:5:6:7:8:9"), -1, "v6: 9 groups rejected");
	is_str(roundtrip("1:2:3:4:5:6:7:8", buf, sizeof(buf)), "1:2:3:4:5:6:7:8",
	       "v6: 8 groups accepted");
	is_int(parse_ip("1:2:3:4:5:6:7"), -1, "v6: 7 groups without :: rejected");
	is_int(parse_ip("1:2:3:4:5:6:7:8::"), -1, "v6: 8 groups plus :: rejected");
	is_int(parse_ip("12345::1"), -1, "v6: 5-digit group rejected");
	is_int(parse_ip(":1::2"), -1, "v6: leading single colon rejected");
	is_int(parse_ip("1::2:"), -1, "v6: trailing single colon rejected");
	is_int(parse_ip("[::1]"), -1, "v6: brackets rejected");
	is_int(parse_ip("g::1"), -1, "v6: non-hex rejected");
	is_str(roundtrip("2001:DB8:0:0:0:0:0:1", buf, sizeof(buf)), "2001:db8::1",
	       "v6: RFC 5952 lower case and compression");
	is_str(roundtrip("2001:db8:0:1:1:1:1:1", buf, sizeof(buf)), "2001:db8:0:1:1:1:1:1",
	       "v6: single zero group not compressed");
	is_str(roundtrip("2001:0:0:1:0:0:0:1", buf, sizeof(buf)), "2001:0:0:1::1",
	       "v6: longest zero run compressed");
	is_str(roundtrip("2001:db8:0:0:1:0:0:1", buf, sizeof(buf)), "2001:db8::1:0:0:1",
	       "v6: first run wins a tie");
	is_str(roundtrip("0001:00ab::", buf, sizeof(buf)), "1:ab::", "v6: leading zeros dropped");
	is_str(roundtrip("::ffff:192.0.2.1", buf, sizeof(buf)), "192.0.2.1",
	       "v6: v4-mapped formats as dotted quad");
	ok(net_parse_ip("::ffff:192.0.2.1", &ip, &why) == 0 && net_ip_is_v4(&ip),
	   "v6: ::ffff:192.0.2.1 is v4");
	is_str(roundtrip("64:ff9b::192.0.2.1", buf, sizeof(buf)), "64:ff9b::c000:201",
	       "v6: NAT64 embedded v4 tail");
	is_int(parse_ip("1:2:3:4:5:6:7:1.2.3.4"), -1, "v6: v4 tail after 7 groups rejected");
	is_int(parse_ip("::1.2.3.4:5"), -1, "v6: v4 tail not at the end rejected");
	is_int(parse_ip("::ffff:1.2.3.256"), -1, "v6: bad v4 tail rejected");
	ok(net_parse_ip("::", &ip, &why) == 0 && net_format_ip(&ip, buf, 2) < 0,
	   "v6: format reports a too-small buffer");
	ok(net_parse_ip("1:2:3:4:5:6:7:8", &ip, &why) == 0 && net_format_ip(&ip, buf, 15) < 0 &&
		   net_format_ip(&ip, buf, 16) == 0,
	   "v6: format needs room for the NUL exactly");
}

static void test_cidr(void)
{
	struct ag_cidr c;
	struct ag_cidr_list l = { 0 };
	struct ag_ip ip;
	const char *why;

	ok(net_parse_cidr("10.0.0.0/8", &c, &why) == 0 && c.prefix == 104,
	   "cidr: v4 /8 is /104 in 128 bits");
	ok(net_parse_cidr("192.0.2.1", &c, &why) == 0 && c.prefix == 128,
	   "cidr: bare v4 is a host route");
	ok(net_parse_cidr("2001:db8::1", &c, &why) == 0 && c.prefix == 128,
	   "cidr: bare v6 is a host route");
	ok(ip_in("10.255.1.2", "10.0.0.0/8"), "cidr: 10.255.1.2 in 10/8");
	ok(!ip_in("11.0.0.1", "10.0.0.0/8"), "cidr: 11.0.0.1 not in 10/8");
	ok(ip_in("::ffff:1.2.3.4", "1.2.3.0/24"), "cidr: v4-mapped client matches v4 CIDR");
	ok(!ip_in("1.2.4.4", "1.2.3.0/24"), "cidr: 1.2.4.4 not in 1.2.3.0/24");
	ok(ip_in("203.0.113.7", "0.0.0.0/0"), "cidr: v4 /0 matches any v4");
	ok(!ip_in("2001:db8::1", "0.0.0.0/0"), "cidr: v4 /0 does not match v6");
	ok(ip_in("2001:db8::1", "::/0"), "cidr: ::/0 matches v6");
	ok(ip_in("192.0.2.1", "192.0.2.1/32"), "cidr: /32 matches itself");
	ok(!ip_in("192.0.2.2", "192.0.2.1/32"), "cidr: /32 does not match neighbour");
	ok(ip_in("2001:db8::1", "2001:db8::1/128"), "cidr: /128 matches itself");
	ok(!ip_in("2001:db8::2", "2001:db8::1/128"), "cidr: /128 does not match neighbour");
	ok(ip_in("2001:db8:ffff::1", "2001:db8::/32"), "cidr: v6 /32 match");
	ok(ip_in("192.168.1.129", "192.168.1.128/25"), "cidr: /25 partial byte match");
	ok(!ip_in("192.168.1.127", "192.168.1.128/25"), "cidr: /25 partial byte mismatch");
	is_str(cidr_why("2001:db8::/129"), "IPv6 prefix length over 128", "cidr: /129 rejected");
	is_str(cidr_why("10.0.0.0/33"), "IPv4 prefix length over 32", "cidr: v4 /33 rejected");
	is_str(cidr_why("10.0.0.1/8"), "host bits set", "cidr: v4 host bits rejected");
	is_str(cidr_why("2001:db8::1/64"), "host bits set", "cidr: v6 host bits rejected");
	ok(strcmp(cidr_why("10.0.0.0/"), "(accepted)") != 0, "cidr: empty prefix rejected");
	ok(strcmp(cidr_why("10.0.0.0/-1"), "(accepted)") != 0, "cidr: negative prefix rejected");
	ok(strcmp(cidr_why("10.0.0.0/8x"), "(accepted)") != 0, "cidr: junk prefix rejected");
	ok(strcmp(cidr_why("/8"), "(accepted)") != 0, "cidr: missing address rejected");
	ok(strcmp(cidr_why("10.0.0/8"), "(accepted)") != 0, "cidr: short v4 address rejected");

	l.n = 2;
	l.v = calloc(l.n, sizeof(*l.v));
	if (l.v == NULL)
		return;
	net_parse_cidr("10.0.0.0/8", &l.v[0], &why);
	net_parse_cidr("2001:db8::/32", &l.v[1], &why);
	ok(net_parse_ip("2001:db8::5", &ip, &why) == 0 && net_cidr_list_match(&l, &ip),
	   "cidr list: second entry matches");
	ok(net_parse_ip("172.16.0.1", &ip, &why) == 0 && !net_cidr_list_match(&l, &ip),
	   "cidr list: no entry matches");
	net_cidr_list_free(&l);
	ok(l.v == NULL && l.n == 0, "cidr list: free resets the list");
	net_cidr_list_free(&l); /* twice, and on a zeroed list: must not crash */
}

static void test_domains(void)
{
	struct ag_domain_list l = { 0 };
	const char *why;

	ok(net_domain_match("example.ac.uk", "example.ac.uk"), "domain: exact match");
	ok(net_domain_match("example.ac.uk", "EXAMPLE.Ac.UK"), "domain: case-insensitive");
	ok(net_domain_match("example.ac.uk", "example.ac.uk."), "domain: trailing dot ignored");
	ok(!net_domain_match("example.ac.uk", "mail.example.ac.uk"), "domain: exact is not sub");
	ok(!net_domain_match("example.ac.uk", "badexample.ac.uk"), "domain: no suffix match");
	ok(net_domain_match("*.example.ac.uk", "mail.example.ac.uk"), "domain: wildcard sub");
	ok(net_domain_match("*.example.ac.uk", "a.b.EXAMPLE.ac.uk."), "domain: wildcard deep");
	ok(!net_domain_match("*.example.ac.uk", "example.ac.uk"), "domain: wildcard not apex");
	ok(!net_domain_match("*.example.ac.uk", "badexample.ac.uk"),
	   "domain: wildcard needs a dot boundary");
	ok(!net_domain_match("example.ac.uk", ""), "domain: empty never matches");

	is_int(net_check_domain_pattern("*.example.ac.uk", &why), 0, "check: wildcard ok");
	is_int(net_check_domain_pattern("mx-1.example.org", &why), 0, "check: hyphen ok");
	is_int(net_check_domain_pattern("-a.example.org", &why), -1, "check: leading hyphen");
	is_int(net_check_domain_pattern("a-.example.org", &why), -1, "check: trailing hyphen");
	is_int(net_check_domain_pattern("a..org", &why), -1, "check: empty label");
	is_int(net_check_domain_pattern("a_b.org", &why), -1, "check: underscore");
	is_int(net_check_domain_pattern("*", &why), -1, "check: bare *");
	is_int(net_check_domain_pattern("a.*.org", &why), -1, "check: inner *");
	is_int(net_check_domain_pattern("192.0.2.1", &why), -1, "check: address literal");
	is_int(net_check_domain_pattern("", &why), -1, "check: empty");
	{
		char lab[80], dom[300];
		size_t i;

		memset(lab, 'a', 63);
		strcpy(lab + 63, ".org");
		is_int(net_check_domain_pattern(lab, &why), 0, "check: 63-char label ok");
		memset(lab, 'a', 64);
		strcpy(lab + 64, ".org");
		is_int(net_check_domain_pattern(lab, &why), -1, "check: 64-char label rejected");
		/* 4 * 63 + 3 dots = 255 is too long; 3 * 63 + 61 + 3 dots = 253 fits. */
		for (i = 0; i < 253; i++)
			dom[i] = (i % 64 == 63) ? '.' : 'a';
		dom[253] = '\0';
		is_int(net_check_domain_pattern(dom, &why), 0, "check: 253-char domain ok");
		dom[253] = 'a';
		dom[254] = '\0';
		is_int(net_check_domain_pattern(dom, &why), -1, "check: 254-char domain rejected");
	}

	l.n = 2;
	l.v = calloc(l.n, sizeof(*l.v));
	if (l.v == NULL)
		return;
	l.v[0] = strdup("example.ac.uk");
	l.v[1] = strdup("*.example.ac.uk");
	ok(net_domain_list_match(&l, "lists.example.ac.uk"), "domain list: wildcard entry");
	ok(!net_domain_list_match(&l, "example.com"), "domain list: no match");
	net_domain_list_free(&l);
	ok(l.v == NULL && l.n == 0, "domain list: free resets the list");
	net_domain_list_free(&l);
}

static void test_patterns(void)
{
	struct ag_pattern_list l = { 0 };
	const char *why;

	ok(net_address_pattern_match("staff-all@example.ac.uk", "Staff-All@Example.AC.uk"),
	   "pattern: exact, case-insensitive");
	ok(net_address_pattern_match("students-*@example.ac.uk", "students-2024@example.ac.uk"),
	   "pattern: trailing glob");
	ok(net_address_pattern_match("students-*@example.ac.uk", "students-@example.ac.uk"),
	   "pattern: glob matches the empty run");
	ok(!net_address_pattern_match("students-*@example.ac.uk", "student@example.ac.uk"),
	   "pattern: prefix must match");
	ok(!net_address_pattern_match("students-*@example.ac.uk", "students-x@example.ac.uk.evil"),
	   "pattern: domain exact");
	ok(!net_address_pattern_match("students-*@example.ac.uk", "students-x@sub.example.ac.uk"),
	   "pattern: no subdomain match");
	ok(net_address_pattern_match("*-all-*@x.org", "a-all-b-all-c@x.org"),
	   "pattern: glob backtracks");
	ok(!net_address_pattern_match("*-all@x.org", "a-all-b@x.org"), "pattern: anchored at end");
	ok(net_address_pattern_match("*@x.org", "\"a@b\"@x.org"), "pattern: last @ splits");

	is_int(net_check_address_pattern("students-*@example.ac.uk", &why), 0, "check pattern: ok");
	is_int(net_check_address_pattern("nobody", &why), -1, "check pattern: no @");
	is_int(net_check_address_pattern("a@*.example.org", &why), -1, "check pattern: * in domain");
	is_int(net_check_address_pattern("@example.org", &why), -1, "check pattern: empty local");
	is_int(net_check_address_pattern("a@", &why), -1, "check pattern: empty domain");
	is_int(net_check_address_pattern("a@b@c.org", &why), -1, "check pattern: two @");
	is_int(net_check_address_pattern("a b@c.org", &why), -1, "check pattern: space");

	l.n = 1;
	l.v = calloc(l.n, sizeof(*l.v));
	if (l.v == NULL)
		return;
	l.v[0] = strdup("staff-*@example.ac.uk");
	ok(net_pattern_list_match(&l, "staff-it@example.ac.uk"), "pattern list: match");
	ok(!net_pattern_list_match(&l, "it-staff@example.ac.uk"), "pattern list: no match");
	net_pattern_list_free(&l);
	ok(l.v == NULL && l.n == 0, "pattern list: free resets the list");
	net_pattern_list_free(&l);
}

/* A PTR answer is hostile input: it ends up in a Received header and an XCLIENT command. */
static void test_hostname(void)
{
	const char *why = NULL;
	char name[300];
	size_t i;

	is_int(net_check_hostname("mail.example.ac.uk", &why), 0, "hostname: plain name ok");
	is_int(net_check_hostname("host-7.dsl.Example.NET", &why), 0, "hostname: mixed case ok");
	is_int(net_check_hostname("3com.com", &why), 0, "hostname: leading digit ok");
	is_int(net_check_hostname("localhost", &why), 0, "hostname: one label ok");
	is_int(net_check_hostname("", &why), -1, "hostname: empty");
	is_int(net_check_hostname(NULL, &why), -1, "hostname: NULL");
	is_int(net_check_hostname("mail.example.org.", &why), -1, "hostname: trailing dot");
	is_int(net_check_hostname("evil host.example.org", &why), -1, "hostname: space");
	is_int(net_check_hostname("a.example.org\r\nX-Injected: 1", &why), -1, "hostname: CR LF");
	is_int(net_check_hostname("a(b).example.org", &why), -1, "hostname: parenthesis");
	is_int(net_check_hostname("a[1].example.org", &why), -1, "hostname: brackets");
	is_int(net_check_hostname("a;b.example.org", &why), -1, "hostname: semicolon");
	is_int(net_check_hostname("*.example.org", &why), -1, "hostname: wildcard");
	is_int(net_check_hostname("a_b.example.org", &why), -1, "hostname: underscore");
	is_int(net_check_hostname("-a.example.org", &why), -1, "hostname: leading hyphen");
	is_int(net_check_hostname("a..example.org", &why), -1, "hostname: empty label");
	is_int(net_check_hostname("192.0.2.7", &why), -1, "hostname: an address is no name");
	is_int(net_check_hostname("h\xc3\xa9.example.org", &why), -1, "hostname: 8-bit (U-label)");
	is_int(net_check_hostname("xn--h-bga.example.org", &why), 0, "hostname: A-label ok");
	for (i = 0; i < 253; i++)
		name[i] = (i % 64 == 63) ? '.' : 'a';
	name[253] = '\0';
	is_int(net_check_hostname(name, &why), 0, "hostname: 253 characters ok");
	for (i = 0; i < 299; i++)
		name[i] = (i % 64 == 63) ? '.' : 'a';
	name[299] = '\0';
	is_int(net_check_hostname(name, &why), -1, "hostname: 299 characters refused");
}

int main(void)
{
	test_ipv4();
	test_ipv6();
	test_cidr();
	test_domains();
	test_patterns();
	test_hostname();
	return tap_done();
}
