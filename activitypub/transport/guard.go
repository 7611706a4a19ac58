package transport

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// specialNets are refused in addition to what netip.Addr's predicates catch
// (loopback, RFC 1918 / fc00::/7 private, link-local, multicast,
// unspecified).
var specialNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),      // CGNAT shared space
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),       // TEST-NET-1
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"),    // TEST-NET-2
	netip.MustParsePrefix("203.0.113.0/24"),     // TEST-NET-3
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved, incl. 255.255.255.255 broadcast
	netip.MustParsePrefix("::/96"),              // IPv4-compatible (deprecated), ::, ::1
	netip.MustParsePrefix("100::/64"),           // discard-only
	netip.MustParsePrefix("2001:db8::/32"),      // documentation
	netip.MustParsePrefix("2001::/32"),          // Teredo (tunnels to arbitrary IPv4)
	netip.MustParsePrefix("2002::/16"),          // 6to4 (tunnels to arbitrary IPv4)
	netip.MustParsePrefix("64:ff9b:1::/48"),     // local-use NAT64
	netip.MustParsePrefix("fec0::/10"),          // deprecated site-local
	netip.MustParsePrefix("ff00::/8"),           // multicast (belt and braces)
	netip.MustParsePrefix("::ffff:0:0:0/96"),    // SIIT IPv4-translated
	netip.MustParsePrefix("fc00::/7"),           // unique local (also IsPrivate)
	netip.MustParsePrefix("169.254.0.0/16"),     // link-local incl. cloud metadata
	netip.MustParsePrefix("fe80::/10"),          // link-local
	netip.MustParsePrefix("127.0.0.0/8"),        // loopback
	netip.MustParsePrefix("255.255.255.255/32"), // broadcast
}

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// addrAllowed reports whether a may be dialled: it is inside an allowed
// prefix, or it is an ordinary public unicast address. IPv4-mapped IPv6
// addresses (::ffff:a.b.c.d) are judged as the IPv4 address they carry, and
// so are NAT64 well-known-prefix addresses (64:ff9b::a.b.c.d), which a NAT64
// gateway would translate to that IPv4 address.
func addrAllowed(a netip.Addr, allowed []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	a = a.WithZone("")
	u := a.Unmap()
	for _, p := range allowed {
		if p.Contains(a) || p.Contains(u) {
			return true
		}
	}
	if u.Is6() && nat64.Contains(u) {
		b := u.As16()
		return addrAllowed(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), allowed)
	}
	if u.IsUnspecified() || u.IsLoopback() || u.IsPrivate() || u.IsLinkLocalUnicast() ||
		u.IsLinkLocalMulticast() || u.IsInterfaceLocalMulticast() || u.IsMulticast() ||
		!u.IsGlobalUnicast() {
		return false
	}
	for _, p := range specialNets {
		if p.Contains(u) {
			return false
		}
	}
	return true
}

// control is the dialer's Control hook: address is the resolved "ip:port"
// about to be connected to, so DNS names (including rebinding ones) are
// judged by what they actually resolved to.
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: unparsable address %q", ErrForbiddenAddress, address)
	}
	if !addrAllowed(ap.Addr(), c.cfg.AllowedNets) {
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, ap.Addr())
	}
	return nil
}

func (c *Client) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if c.testDial != nil {
		var err error
		if addr, err = c.testDial(addr); err != nil {
			return nil, err
		}
	}
	return c.dialer.DialContext(ctx, network, addr)
}

// checkURL parses raw and accepts only absolute http(s) URLs with a host and
// without userinfo.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	return u, validURL(u)
}

func validURL(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return fmt.Errorf("%w: scheme %q not allowed", ErrInvalidURL, u.Scheme)
	}
	if u.User != nil {
		return fmt.Errorf("%w: userinfo not allowed", ErrInvalidURL)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%w: no host", ErrInvalidURL)
	}
	return nil
}
