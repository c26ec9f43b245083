// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The channel-data fast path of avedge: a TC (tcx) ingress program that
 * relays TURN ChannelData between UDP clients and UDP peers without the
 * packets reaching user space.
 *
 * User space keeps all authority: it installs an entry per bound channel in
 * two hash maps (to_peer, keyed by what a client's ChannelData carries, and
 * to_client, keyed by what a peer's datagram carries) and removes it; this
 * program only rewrites packets that match a live entry. Each entry carries
 * the permission's expiry on the kernel's monotonic clock
 * (bpf_ktime_get_ns), so that a removal user space missed cannot extend a
 * permission: a packet on an expired entry is dropped and counted.
 *
 * Anything the program is not sure of goes to the stack unchanged
 * (TC_ACT_OK), where user space handles it as before: non-IPv4 (IPv6 is
 * a later slice), IP options, fragments, GSO packets, STUN and indications,
 * channels with no entry, ChannelData with padding or a length that does
 * not match the datagram, datagrams without a UDP checksum, packets whose
 * checksum is left to the NIC (CHECKSUM_PARTIAL: see probe_csum), and
 * packets that would exceed the egress MTU once the 4-byte header is added.
 *
 * Addresses in the maps are 16 bytes, IPv4 as IPv4-mapped IPv6
 * (::ffff:a.b.c.d), so that IPv6 needs no change of layout; ports and
 * channel numbers are in host byte order.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char __license[] SEC("license") = "Dual BSD/GPL";

/* The TTL of the packets the program sends, as user space's sockets would
 * (net.ipv4.ip_default_ttl): the loader sets it. */
volatile const __u8 ttl = 64;

/* A client's ChannelData as it arrives: its transport address, the
 * listener address it was sent to, and the channel number. */
struct client_key {
	__u8 client_addr[16];
	__u8 listener_addr[16];
	__u16 client_port;
	__u16 listener_port;
	__u16 channel;
	__u16 pad;
};

/* Where a client's ChannelData goes: from the relayed address to the peer,
 * out of interface ifindex, until expires_ns. packets and bytes count what
 * was relayed (bytes: application data, without the ChannelData header). */
struct to_peer_value {
	__u8 relayed_addr[16];
	__u8 peer_addr[16];
	__u16 relayed_port;
	__u16 peer_port;
	__u32 ifindex;
	__u64 expires_ns;
	__u64 packets;
	__u64 bytes;
};

/* A peer's datagram as it arrives: the peer's address and the relayed
 * address it was sent to. */
struct peer_key {
	__u8 peer_addr[16];
	__u8 relayed_addr[16];
	__u16 peer_port;
	__u16 relayed_port;
};

/* Where a peer's datagram goes: in ChannelData on channel, from the
 * listener address to the client, out of interface ifindex. */
struct to_client_value {
	__u8 client_addr[16];
	__u8 listener_addr[16];
	__u16 client_port;
	__u16 listener_port;
	__u16 channel;
	__u16 pad;
	__u32 ifindex;
	__u32 pad2;
	__u64 expires_ns;
	__u64 packets;
	__u64 bytes;
};

/* Indexes of the stats map: what the program did with packets it looked
 * at closely (those that matched an entry's addresses). */
enum stat {
	STAT_TO_PEER,		/* relayed client -> peer */
	STAT_TO_CLIENT,		/* relayed peer -> client */
	STAT_EXPIRED,		/* dropped: the entry's permission expired */
	STAT_PASS_PARTIAL,	/* to user space: checksum left to the NIC */
	STAT_PASS_NO_CSUM,	/* to user space: UDP checksum 0 */
	STAT_PASS_MTU,		/* to user space: too big with the header */
	STAT_ERROR,		/* dropped: a helper failed mid-rewrite */
	STAT_MAX,
};

/* Sizes are placeholders: the loader sets max_entries. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct client_key);
	__type(value, struct to_peer_value);
} to_peer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct peer_key);
	__type(value, struct to_client_value);
} to_client SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, enum stat);
	__type(value, __u64);
} stats SEC(".maps");

/* Offsets from the start of the frame (an Ethernet header: the loader
 * attaches only to Ethernet interfaces) of an IPv4 header without options
 * and its UDP header. */
#define IP_OFF (ETH_HLEN)
#define IP_TOT_LEN_OFF (IP_OFF + offsetof(struct iphdr, tot_len))
#define IP_TTL_OFF (IP_OFF + offsetof(struct iphdr, ttl))
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_ADDRS_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define UDP_OFF (IP_OFF + sizeof(struct iphdr))
#define UDP_LEN_OFF (UDP_OFF + offsetof(struct udphdr, len))
#define UDP_CSUM_OFF (UDP_OFF + offsetof(struct udphdr, check))
#define CD_HLEN 4 /* ChannelData header: channel number, length */

/* What to_peer_path returns when no entry matches, so that the packet is
 * tried as a peer's datagram. */
#define NO_ENTRY (-2)

/* The headers of a candidate packet, copied out of it. */
struct headers {
	struct iphdr ip;
	struct udphdr udp;
	__u8 cd[CD_HLEN]; /* the first 4 bytes of the UDP payload */
};

static __always_inline void count(enum stat s)
{
	enum stat key = s;
	__u64 *v = bpf_map_lookup_elem(&stats, &key);

	if (v)
		*v += 1;
}

/* v4mapped writes a as ::ffff:a. */
static __always_inline void v4mapped(__u8 out[16], __be32 a)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(out + 12, &a, 4);
}

static __always_inline __be32 v4of(const __u8 in[16])
{
	__be32 a;

	__builtin_memcpy(&a, in + 12, 4);
	return a;
}

/*
 * probe_csum adds (or removes, when add is 0) the ChannelData header word
 * cd to the UDP checksum, and reports whether the packet can be rewritten
 * here. On a CHECKSUM_PARTIAL packet (one a local sender left to the NIC to
 * checksum, as through a veth or virtio) the kernel ignores changes that
 * are not in the pseudo-header, so the checksum field does not move; such a
 * packet cannot be offloaded, because moving the UDP header with
 * bpf_skb_adjust_room would leave the skb's checksum start behind it. cd is
 * never zero modulo 0xffff (the channel is 0x4000-0x4fff and the length
 * below 0xb000), so on any other packet the field changes.
 */
static __always_inline int probe_csum(struct __sk_buff *skb, __sum16 old, __be32 cd, int add)
{
	__sum16 now;
	int err;

	if (add)
		err = bpf_l4_csum_replace(skb, UDP_CSUM_OFF, 0, cd, BPF_F_MARK_MANGLED_0 | 4);
	else
		err = bpf_l4_csum_replace(skb, UDP_CSUM_OFF, cd, 0, BPF_F_MARK_MANGLED_0 | 4);
	if (err)
		return err;
	if (bpf_skb_load_bytes(skb, UDP_CSUM_OFF, &now, sizeof(now)))
		return -1;
	return now == old ? -1 : 0;
}

/* The new addressing of a relayed packet. */
struct rewrite {
	__be32 saddr, daddr;
	__be16 sport, dport;
	__be16 ulen;	 /* the new UDP length */
	__be16 tot_len;	 /* the new IP total length */
};

/*
 * nat rewrites the IPv4 and UDP headers in place to r, fixing the IP
 * checksum and the UDP checksum incrementally (pseudo-header and header).
 * The TOS byte (DSCP and ECN), the identification and the DF bit are kept,
 * as user space carries them over; the TTL is the one user space would use.
 */
static __always_inline int nat(struct __sk_buff *skb, const struct headers *h, const struct rewrite *r)
{
	__be32 old_addrs[2] = {h->ip.saddr, h->ip.daddr};
	__be32 new_addrs[2] = {r->saddr, r->daddr};
	__be16 old_port_pair[2] = {h->udp.source, h->udp.dest};
	__be16 new_port_pair[2] = {r->sport, r->dport};
	__be32 old_ports, new_ports;
	__u8 old_ttl_proto[2] = {h->ip.ttl, h->ip.protocol};
	__u8 new_ttl_proto[2] = {ttl, h->ip.protocol};
	__be16 old_tp, new_tp;
	__s64 diff;

	__builtin_memcpy(&old_ports, old_port_pair, 4);
	__builtin_memcpy(&new_ports, new_port_pair, 4);
	__builtin_memcpy(&old_tp, old_ttl_proto, 2);
	__builtin_memcpy(&new_tp, new_ttl_proto, 2);
	diff = bpf_csum_diff(old_addrs, sizeof(old_addrs), new_addrs, sizeof(new_addrs), 0);
	if (diff < 0)
		return -1;

	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, 0, diff, 0) ||
	    bpf_l3_csum_replace(skb, IP_CSUM_OFF, h->ip.tot_len, r->tot_len, 2) ||
	    bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_tp, new_tp, 2))
		return -1;
	if (bpf_l4_csum_replace(skb, UDP_CSUM_OFF, 0, diff, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0) ||
	    bpf_l4_csum_replace(skb, UDP_CSUM_OFF, h->udp.len, r->ulen, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 2) ||
	    bpf_l4_csum_replace(skb, UDP_CSUM_OFF, h->udp.len, r->ulen, BPF_F_MARK_MANGLED_0 | 2) ||
	    bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_ports, new_ports, BPF_F_MARK_MANGLED_0 | 4))
		return -1;

	if (bpf_skb_store_bytes(skb, IP_ADDRS_OFF, new_addrs, sizeof(new_addrs), 0) ||
	    bpf_skb_store_bytes(skb, IP_TOT_LEN_OFF, &r->tot_len, 2, 0) ||
	    bpf_skb_store_bytes(skb, IP_TTL_OFF, &new_ttl_proto[0], 1, 0) ||
	    bpf_skb_store_bytes(skb, UDP_OFF, &new_ports, 4, 0) ||
	    bpf_skb_store_bytes(skb, UDP_LEN_OFF, &r->ulen, 2, 0))
		return -1;
	return 0;
}

/*
 * to_peer_path relays a client's ChannelData to its peer: validate, look
 * up, check expiry, rewrite the addressing, then strip the 4-byte header
 * by moving the (rewritten) UDP header 4 bytes on and removing the 4 bytes
 * after the IP header.
 */
static __always_inline int to_peer_path(struct __sk_buff *skb, const struct headers *h)
{
	__u16 ulen = bpf_ntohs(h->udp.len);
	__u16 channel = ((__u16)h->cd[0] << 8) | h->cd[1];
	__u16 length = ((__u16)h->cd[2] << 8) | h->cd[3];
	struct client_key key = {};
	struct to_peer_value *v;
	struct rewrite r;
	struct udphdr udp;
	__be32 cd;

	if (ulen < sizeof(struct udphdr) + CD_HLEN || channel < 0x4000 || channel > 0x4fff)
		return NO_ENTRY;

	v4mapped(key.client_addr, h->ip.saddr);
	v4mapped(key.listener_addr, h->ip.daddr);
	key.client_port = bpf_ntohs(h->udp.source);
	key.listener_port = bpf_ntohs(h->udp.dest);
	key.channel = channel;
	v = bpf_map_lookup_elem(&to_peer, &key);
	if (!v)
		return NO_ENTRY;
	if (length != ulen - sizeof(struct udphdr) - CD_HLEN)
		return TC_ACT_OK; /* padded or truncated: user space decides */
	if (bpf_ktime_get_ns() >= v->expires_ns) {
		count(STAT_EXPIRED);
		return TC_ACT_SHOT;
	}
	if (h->udp.check == 0) {
		count(STAT_PASS_NO_CSUM);
		return TC_ACT_OK;
	}
	__builtin_memcpy(&cd, h->cd, CD_HLEN);
	if (probe_csum(skb, h->udp.check, cd, 0)) {
		count(STAT_PASS_PARTIAL);
		return TC_ACT_OK;
	}

	/* From here on the packet is changed: a failure drops it. */
	r.saddr = v4of(v->relayed_addr);
	r.daddr = v4of(v->peer_addr);
	r.sport = bpf_htons(v->relayed_port);
	r.dport = bpf_htons(v->peer_port);
	r.ulen = bpf_htons(ulen - CD_HLEN);
	r.tot_len = bpf_htons(bpf_ntohs(h->ip.tot_len) - CD_HLEN);
	if (nat(skb, h, &r))
		goto fail;
	if (bpf_skb_load_bytes(skb, UDP_OFF, &udp, sizeof(udp)) ||
	    bpf_skb_store_bytes(skb, UDP_OFF + CD_HLEN, &udp, sizeof(udp), BPF_F_RECOMPUTE_CSUM) ||
	    bpf_skb_adjust_room(skb, -CD_HLEN, BPF_ADJ_ROOM_NET, 0))
		goto fail;

	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, length);
	count(STAT_TO_PEER);
	return bpf_redirect_neigh(v->ifindex, NULL, 0, 0);
fail:
	count(STAT_ERROR);
	return TC_ACT_SHOT;
}

/*
 * to_client_path relays a peer's datagram to the client: look up, check
 * expiry and the egress MTU, rewrite the addressing, then add the 4-byte
 * ChannelData header by opening 4 bytes after the IP header, moving the
 * UDP header there and writing the ChannelData header behind it.
 */
static __always_inline int to_client_path(struct __sk_buff *skb, const struct headers *h)
{
	__u16 ulen = bpf_ntohs(h->udp.len);
	__u16 length = ulen - sizeof(struct udphdr);
	struct to_client_value *v;
	struct peer_key key = {};
	__u32 mtu_len = 0;
	struct rewrite r;
	struct udphdr udp;
	__u8 cd[CD_HLEN];
	__be32 cdw;

	if (ulen > 0xffff - CD_HLEN - sizeof(struct iphdr) || length > 0xafff)
		return TC_ACT_OK;
	v4mapped(key.peer_addr, h->ip.saddr);
	v4mapped(key.relayed_addr, h->ip.daddr);
	key.peer_port = bpf_ntohs(h->udp.source);
	key.relayed_port = bpf_ntohs(h->udp.dest);
	v = bpf_map_lookup_elem(&to_client, &key);
	if (!v)
		return TC_ACT_OK;
	if (bpf_ktime_get_ns() >= v->expires_ns) {
		count(STAT_EXPIRED);
		return TC_ACT_SHOT;
	}
	if (bpf_check_mtu(skb, v->ifindex, &mtu_len, CD_HLEN, 0) != BPF_MTU_CHK_RET_SUCCESS) {
		count(STAT_PASS_MTU);
		return TC_ACT_OK;
	}
	if (h->udp.check == 0) {
		count(STAT_PASS_NO_CSUM);
		return TC_ACT_OK;
	}
	cd[0] = v->channel >> 8;
	cd[1] = v->channel & 0xff;
	cd[2] = length >> 8;
	cd[3] = length & 0xff;
	__builtin_memcpy(&cdw, cd, CD_HLEN);
	if (probe_csum(skb, h->udp.check, cdw, 1)) {
		count(STAT_PASS_PARTIAL);
		return TC_ACT_OK;
	}

	/* From here on the packet is changed: a failure drops it. */
	r.saddr = v4of(v->listener_addr);
	r.daddr = v4of(v->client_addr);
	r.sport = bpf_htons(v->listener_port);
	r.dport = bpf_htons(v->client_port);
	r.ulen = bpf_htons(ulen + CD_HLEN);
	r.tot_len = bpf_htons(bpf_ntohs(h->ip.tot_len) + CD_HLEN);
	if (nat(skb, h, &r))
		goto fail;
	if (bpf_skb_load_bytes(skb, UDP_OFF, &udp, sizeof(udp)) ||
	    bpf_skb_adjust_room(skb, CD_HLEN, BPF_ADJ_ROOM_NET, 0) ||
	    bpf_skb_store_bytes(skb, UDP_OFF, &udp, sizeof(udp), BPF_F_RECOMPUTE_CSUM) ||
	    bpf_skb_store_bytes(skb, UDP_OFF + sizeof(udp), cd, CD_HLEN, BPF_F_RECOMPUTE_CSUM))
		goto fail;

	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, length);
	count(STAT_TO_CLIENT);
	return bpf_redirect_neigh(v->ifindex, NULL, 0, 0);
fail:
	count(STAT_ERROR);
	return TC_ACT_SHOT;
}

SEC("tc")
int channel_data(struct __sk_buff *skb)
{
	struct headers h;

	if (skb->protocol != bpf_htons(ETH_P_IP) || skb->gso_segs > 1 || skb->gso_size)
		return TC_ACT_OK;
	if (bpf_skb_load_bytes(skb, IP_OFF, &h, sizeof(h.ip) + sizeof(h.udp)))
		return TC_ACT_OK;
	if (h.ip.version != 4 || h.ip.ihl != 5 || h.ip.protocol != IPPROTO_UDP ||
	    (h.ip.frag_off & bpf_htons(0x3fff)) != 0 || /* MF or an offset */
	    bpf_ntohs(h.ip.tot_len) != sizeof(h.ip) + bpf_ntohs(h.udp.len))
		return TC_ACT_OK;

	/* A datagram with a ChannelData-looking start may be either a
	 * client's ChannelData or a peer's data: the addresses tell. */
	if (bpf_ntohs(h.udp.len) >= sizeof(h.udp) + CD_HLEN &&
	    !bpf_skb_load_bytes(skb, UDP_OFF + sizeof(h.udp), h.cd, CD_HLEN) &&
	    (h.cd[0] & 0xf0) == 0x40) {
		int verdict = to_peer_path(skb, &h);

		if (verdict != NO_ENTRY)
			return verdict;
	}
	return to_client_path(skb, &h);
}
