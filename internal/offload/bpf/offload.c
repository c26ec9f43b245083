// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The channel-data fast path of avedge: a TC (tcx) ingress program
 * (channel_data) and an XDP program (channel_data_xdp) that relay TURN
 * ChannelData between UDP clients and UDP peers without the packets
 * reaching user space, over IPv4 and IPv6. The loader attaches one of the
 * two; they share the maps and the checks (check_headers, find_to_peer,
 * find_to_client) and differ in how they change and send the packet.
 *
 * User space keeps all authority: it installs an entry per bound channel in
 * two hash maps (to_peer, keyed by what a client's ChannelData carries, and
 * to_client, keyed by what a peer's datagram carries) and removes it; this
 * program only rewrites packets that match a live entry. Each entry carries
 * the permission's expiry on the kernel's monotonic clock
 * (bpf_ktime_get_ns), so that a removal user space missed cannot extend a
 * permission: a packet on an expired entry is dropped and counted.
 *
 * Anything the program is not sure of goes on unchanged (PASS: to the
 * next program at the hook, then the stack), where user space handles it
 * as before: anything but IPv4 or
 * IPv6 with UDP right after the fixed header (IPv4 options, IPv6 extension
 * headers, fragments, jumbograms), GSO packets, STUN and indications,
 * channels with no entry, ChannelData whose length matches the datagram
 * neither exactly nor with padding to 4 bytes, datagrams without a UDP
 * checksum, packets whose checksum is left to the NIC (CHECKSUM_PARTIAL:
 * see probe_csum), and packets that would exceed the egress MTU once the
 * 4-byte header is added.
 *
 * Addresses in the maps are 16 bytes, IPv4 as IPv4-mapped IPv6
 * (::ffff:a.b.c.d); ports and channel numbers are in host byte order. An
 * entry's four addresses are of one family (user space translates no
 * family into the other), so the family of the packet is the family of
 * the packet that leaves.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* TCX_NEXT is Linux 6.6's (the tcx hook's); Debian 12's uapi headers
 * predate it. */
#ifndef TCX_NEXT
#define TCX_NEXT (-1)
#endif

/* PASS is the verdict on a packet the program leaves alone: TCX_NEXT, not
 * TC_ACT_OK (TCX_PASS), so that the programs attached after this one at
 * the interface's tcx ingress (another edge's on the same host, a CNI's)
 * still see it before the stack does; TC_ACT_OK would end the chain. */
#define PASS TCX_NEXT

char __license[] SEC("license") = "Dual BSD/GPL";

/* The TTL (IPv4) and hop limit (IPv6) of the packets the program sends:
 * the namespace's net.ipv4.ip_default_ttl, as user space's sockets use,
 * and net.ipv6.conf.all.hop_limit (not an interface's own hop_limit where
 * one was set apart). The loader sets them. */
volatile const __u8 ttl = 64;
volatile const __u8 hop_limit = 64;

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
	STAT_PASS_NO_NEIGH,	/* XDP, to user space: next hop's MAC unknown */
	STAT_MAX,
};

/* Sizes are placeholders: the loader sets max_entries. The channel maps
 * are not preallocated: a preallocated hash map recycles a replaced or
 * deleted element at once, so a packet being rewritten on another CPU
 * could read half of one channel and half of another; without
 * preallocation an element is freed only after an RCU grace period, and
 * a packet reads the entry whole as it was at its lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct client_key);
	__type(value, struct to_peer_value);
} to_peer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct peer_key);
	__type(value, struct to_client_value);
} to_client SEC(".maps");

/* The XDP program's next hops: the loader writes, for each destination of
 * an entry (a to_peer entry's peer, a to_client entry's client) on the
 * entry's egress interface, the MAC addresses of the frame that reaches
 * it: the interface's own and the next hop's (the route's gateway, or the
 * destination itself on a link), from the kernel's neighbour table. Keyed
 * by destination rather than by gateway so that the program needs one
 * lookup and the entries keep their layout. No entry: the packet goes to
 * user space, whose send resolves the neighbour. */
struct hop_key {
	__u32 ifindex;
	__u8 addr[16]; /* the destination, as in the maps (IPv4 mapped) */
};

struct hop_value {
	__u8 src[ETH_ALEN]; /* the egress interface's MAC */
	__u8 dst[ETH_ALEN]; /* the next hop's MAC */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct hop_key);
	__type(value, struct hop_value);
} next_hops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, enum stat);
	__type(value, __u64);
} stats SEC(".maps");

/* Offsets from the start of the frame (an Ethernet header: the loader
 * attaches only to Ethernet interfaces) of the IP header and, behind an
 * IPv4 header without options or the fixed IPv6 header, the UDP header.
 * v6 is a constant wherever these are used, so each family's code is
 * compiled with its own offsets. */
#define IP_OFF (ETH_HLEN)
#define IP4_TOT_LEN_OFF (IP_OFF + offsetof(struct iphdr, tot_len))
#define IP4_TTL_OFF (IP_OFF + offsetof(struct iphdr, ttl))
#define IP4_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP4_ADDRS_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define IP6_PLEN_OFF (IP_OFF + offsetof(struct ipv6hdr, payload_len))
#define IP6_HOP_OFF (IP_OFF + offsetof(struct ipv6hdr, hop_limit))
#define IP6_ADDRS_OFF (IP_OFF + offsetof(struct ipv6hdr, saddr))
#define UDP_OFF(v6) (IP_OFF + ((v6) ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)))
#define UDP_LEN_OFF(v6) (UDP_OFF(v6) + offsetof(struct udphdr, len))
#define UDP_CSUM_OFF(v6) (UDP_OFF(v6) + offsetof(struct udphdr, check))
#define CD_HLEN 4 /* ChannelData header: channel number, length */
/* The largest ChannelData length the program handles (see probe_csum). */
#define CD_MAX_LEN 0x7fff

/* What to_peer_path returns when no entry matches, so that the packet is
 * tried as a peer's datagram. */
#define NO_ENTRY (-2)

/* The headers of a candidate packet, copied out of it. */
struct headers {
	/* Source and destination address, as in the maps (IPv4 mapped). */
	__u8 saddr[16], daddr[16];
	union {
		struct iphdr ip;	/* IPv4 */
		struct ipv6hdr ip6;	/* IPv6 */
	};
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

/* is_v4mapped reports whether a is ::ffff:a.b.c.d. */
static __always_inline int is_v4mapped(const __u8 a[16])
{
	__u32 w[3];

	__builtin_memcpy(w, a, 12);
	return w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff);
}

/*
 * probe_csum adds (or removes, when add is 0) the ChannelData header word
 * cd to the UDP checksum, and reports whether the packet can be rewritten
 * here. On a CHECKSUM_PARTIAL packet (one a local sender left to the NIC to
 * checksum, as through a veth or virtio) the kernel ignores changes that
 * are not in the pseudo-header, so the checksum field does not move; such a
 * packet cannot be offloaded, because moving the UDP header with
 * bpf_skb_adjust_room would leave the skb's checksum start behind it.
 *
 * On any other packet the field changes, because cd is never zero modulo
 * 0xffff (the ones'-complement zeros 0x0000 and 0xffff): its words are the
 * channel, 0x4000-0x7fff, and the length, which the callers bound to
 * CD_MAX_LEN (0x7fff, longer datagrams go to user space), so their sum is
 * 0x4000-0xfffe, without a carry to fold.
 */
static __always_inline int probe_csum(struct __sk_buff *skb, int v6, __sum16 old, __be32 cd, int add)
{
	__sum16 now;
	int err;

	if (add)
		err = bpf_l4_csum_replace(skb, UDP_CSUM_OFF(v6), 0, cd, BPF_F_MARK_MANGLED_0 | 4);
	else
		err = bpf_l4_csum_replace(skb, UDP_CSUM_OFF(v6), cd, 0, BPF_F_MARK_MANGLED_0 | 4);
	if (err)
		return err;
	if (bpf_skb_load_bytes(skb, UDP_CSUM_OFF(v6), &now, sizeof(now)))
		return -1;
	return now == old ? -1 : 0;
}

/* The new addressing of a relayed packet. */
struct rewrite {
	__u8 saddr[16], daddr[16]; /* as in the maps (IPv4 mapped) */
	__be16 sport, dport;
	__u16 ulen; /* the new UDP length */
};

/*
 * nat rewrites the IP and UDP headers in place to r, fixing the UDP
 * checksum incrementally (pseudo-header and header) and, for IPv4, the IP
 * checksum. The checksum difference of the addresses is taken over their
 * 16-byte forms for both families: the ::ffff: prefix of IPv4-mapped
 * addresses is common to old and new and cancels out.
 *
 * What user space carries over is kept: for IPv4 the TOS byte (DSCP and
 * ECN), the identification and the DF bit; for IPv6 the Traffic Class
 * (DSCP and ECN). The TTL or hop limit is the loader's (see ttl and
 * hop_limit). The IPv6 flow label is set to zero ("unlabelled", RFC 6437
 * §2): the edge is the source of the flow that leaves, not a router on the
 * one that came in, so keeping the sender's label would tie the two legs
 * of the relay together for anyone watching both (hiding the client's
 * address from the peer is what a relay is for), and the label user space
 * would get (net.ipv6.auto_flowlabels, a hash of the socket's flow) cannot
 * be computed here without a field in the maps. Routers that hash on the
 * label fall back to the addresses and ports for an unlabelled packet.
 */
static __always_inline int nat(struct __sk_buff *skb, const struct headers *h, int v6, const struct rewrite *r)
{
	__be16 old_port_pair[2] = {h->udp.source, h->udp.dest};
	__be16 new_port_pair[2] = {r->sport, r->dport};
	__be16 ulen = bpf_htons(r->ulen);
	__be32 old_ports, new_ports;
	__s64 diff;

	__builtin_memcpy(&old_ports, old_port_pair, 4);
	__builtin_memcpy(&new_ports, new_port_pair, 4);
	/* saddr and daddr are adjacent in both: 32 bytes each. */
	diff = bpf_csum_diff((__be32 *)h->saddr, 32, (__be32 *)r->saddr, 32, 0);
	if (diff < 0)
		return -1;

	if (v6) {
		/* Version and Traffic Class kept, flow label zeroed. */
		__be32 word0;
		__be16 plen = ulen; /* no extension headers */
		__u8 hops = hop_limit;

		__builtin_memcpy(&word0, &h->ip6, 4);
		word0 &= bpf_htonl(0xfff00000);
		if (bpf_skb_store_bytes(skb, IP_OFF, &word0, 4, 0) ||
		    bpf_skb_store_bytes(skb, IP6_PLEN_OFF, &plen, 2, 0) ||
		    bpf_skb_store_bytes(skb, IP6_HOP_OFF, &hops, 1, 0) ||
		    bpf_skb_store_bytes(skb, IP6_ADDRS_OFF, r->saddr, 32, 0))
			return -1;
	} else {
		__be16 tot_len = bpf_htons(sizeof(struct iphdr) + r->ulen);
		__u8 old_ttl_proto[2] = {h->ip.ttl, h->ip.protocol};
		__u8 new_ttl_proto[2] = {ttl, h->ip.protocol};
		__be32 addrs[2];
		__be16 old_tp, new_tp;

		__builtin_memcpy(&old_tp, old_ttl_proto, 2);
		__builtin_memcpy(&new_tp, new_ttl_proto, 2);
		__builtin_memcpy(&addrs[0], r->saddr + 12, 4);
		__builtin_memcpy(&addrs[1], r->daddr + 12, 4);
		if (bpf_l3_csum_replace(skb, IP4_CSUM_OFF, 0, diff, 0) ||
		    bpf_l3_csum_replace(skb, IP4_CSUM_OFF, h->ip.tot_len, tot_len, 2) ||
		    bpf_l3_csum_replace(skb, IP4_CSUM_OFF, old_tp, new_tp, 2))
			return -1;
		if (bpf_skb_store_bytes(skb, IP4_ADDRS_OFF, addrs, sizeof(addrs), 0) ||
		    bpf_skb_store_bytes(skb, IP4_TOT_LEN_OFF, &tot_len, 2, 0) ||
		    bpf_skb_store_bytes(skb, IP4_TTL_OFF, &new_ttl_proto[0], 1, 0))
			return -1;
	}

	/* The UDP length is in both the pseudo-header (for IPv6 as 32 bits,
	 * whose upper half stays 0) and the UDP header. */
	if (bpf_l4_csum_replace(skb, UDP_CSUM_OFF(v6), 0, diff, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0) ||
	    bpf_l4_csum_replace(skb, UDP_CSUM_OFF(v6), h->udp.len, ulen, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 2) ||
	    bpf_l4_csum_replace(skb, UDP_CSUM_OFF(v6), h->udp.len, ulen, BPF_F_MARK_MANGLED_0 | 2) ||
	    bpf_l4_csum_replace(skb, UDP_CSUM_OFF(v6), old_ports, new_ports, BPF_F_MARK_MANGLED_0 | 4))
		return -1;
	if (bpf_skb_store_bytes(skb, UDP_OFF(v6), &new_ports, 4, 0) ||
	    bpf_skb_store_bytes(skb, UDP_LEN_OFF(v6), &ulen, 2, 0))
		return -1;
	return 0;
}

/*
 * unpad takes the padding of a padded ChannelData (RFC 8656 §12.5: over
 * UDP a client may pad it to a multiple of 4 bytes) out of the UDP
 * checksum: pad (1-3) bytes ending at UDP offset end, a multiple of 4, so
 * that they lie in one 4-byte word aligned as the checksum's words are.
 * The caller trims them off the packet afterwards.
 */
static __always_inline int unpad(struct __sk_buff *skb, int v6, __u32 end, __u32 pad)
{
	__u8 w[4];
	__be32 word;

	if (bpf_skb_load_bytes(skb, UDP_OFF(v6) + end - 4, w, 4))
		return -1;
	/* Keep only the padding: the last pad bytes of the word. */
	w[0] = 0;
	if (pad < 3)
		w[1] = 0;
	if (pad < 2)
		w[2] = 0;
	__builtin_memcpy(&word, w, 4);
	return bpf_l4_csum_replace(skb, UDP_CSUM_OFF(v6), word, 0, BPF_F_MARK_MANGLED_0 | 4);
}

/* What the shared checks (find_to_peer, find_to_client) decide. */
enum found {
	FOUND,		/* relay with the entry returned */
	FOUND_NONE,	/* no entry: not a client's ChannelData */
	FOUND_PASS,	/* leave it to user space */
	FOUND_DROP,	/* drop it (the entry expired) */
};

/*
 * find_to_peer looks up the to_peer entry of h, a datagram whose payload
 * starts with h->cd, and checks what both hooks check before relaying it
 * to the peer: a channel number in range, an entry, a ChannelData length
 * that matches the datagram exactly or padded to 4 bytes (the rest goes
 * to user space, which decides), a live permission and a UDP checksum.
 * It sets *res, and on FOUND *length (the application data) and *pad.
 */
static __always_inline struct to_peer_value *find_to_peer(void *ctx, const struct headers *h, __u16 *length, __u32 *pad, int *res)
{
	__u32 mtu_len = 0;
	__u16 ulen = bpf_ntohs(h->udp.len);
	__u16 channel = ((__u16)h->cd[0] << 8) | h->cd[1];
	__u16 len = ((__u16)h->cd[2] << 8) | h->cd[3];
	__u16 data = ulen - sizeof(struct udphdr) - CD_HLEN; /* what follows the header */
	struct client_key key = {};
	struct to_peer_value *v;

	*res = FOUND_NONE;
	if (ulen < sizeof(struct udphdr) + CD_HLEN || channel < 0x4000 || channel > 0x7fff)
		return NULL;
	__builtin_memcpy(key.client_addr, h->saddr, 16);
	__builtin_memcpy(key.listener_addr, h->daddr, 16);
	key.client_port = bpf_ntohs(h->udp.source);
	key.listener_port = bpf_ntohs(h->udp.dest);
	key.channel = channel;
	v = bpf_map_lookup_elem(&to_peer, &key);
	if (!v)
		return NULL;
	*res = FOUND_PASS;
	/* Exactly the length, or padded to a multiple of 4; anything else
	 * (truncated, other padding) and lengths beyond CD_MAX_LEN: user
	 * space decides. */
	if (len > CD_MAX_LEN || (len != data && ((len + 3) & ~3) != data))
		return NULL;
	if (bpf_ktime_get_ns() >= v->expires_ns) {
		count(STAT_EXPIRED);
		*res = FOUND_DROP;
		return NULL;
	}
	if (h->udp.check == 0) {
		count(STAT_PASS_NO_CSUM);
		return NULL;
	}
	/* Shorter by the header and the padding, but the peer's side may
	 * have a smaller MTU than the client's. */
	if (bpf_check_mtu(ctx, v->ifindex, &mtu_len, -(__s32)(CD_HLEN + data - len), 0) != BPF_MTU_CHK_RET_SUCCESS) {
		count(STAT_PASS_MTU);
		return NULL;
	}
	*length = len;
	*pad = data - len;
	*res = FOUND;
	return v;
}

/*
 * find_to_client looks up the to_client entry of h, a peer's datagram, and
 * checks what both hooks check before relaying it to the client: a length
 * within CD_MAX_LEN, an entry, a live permission, room for the ChannelData
 * header within the egress interface's MTU (bpf_check_mtu serves both
 * hooks: ctx is the skb or the xdp_md) and a UDP checksum. It sets *res.
 */
static __always_inline struct to_client_value *find_to_client(void *ctx, const struct headers *h, int *res)
{
	__u16 ulen = bpf_ntohs(h->udp.len);
	struct to_client_value *v;
	struct peer_key key = {};
	__u32 mtu_len = 0;

	*res = FOUND_PASS;
	/* Bounded for probe_csum; it also keeps the lengths in 16 bits. */
	if (ulen < sizeof(struct udphdr) || ulen - sizeof(struct udphdr) > CD_MAX_LEN)
		return NULL;
	__builtin_memcpy(key.peer_addr, h->saddr, 16);
	__builtin_memcpy(key.relayed_addr, h->daddr, 16);
	key.peer_port = bpf_ntohs(h->udp.source);
	key.relayed_port = bpf_ntohs(h->udp.dest);
	v = bpf_map_lookup_elem(&to_client, &key);
	if (!v)
		return NULL;
	if (bpf_ktime_get_ns() >= v->expires_ns) {
		count(STAT_EXPIRED);
		*res = FOUND_DROP;
		return NULL;
	}
	if (bpf_check_mtu(ctx, v->ifindex, &mtu_len, CD_HLEN, 0) != BPF_MTU_CHK_RET_SUCCESS) {
		count(STAT_PASS_MTU);
		return NULL;
	}
	if (h->udp.check == 0) {
		count(STAT_PASS_NO_CSUM);
		return NULL;
	}
	*res = FOUND;
	return v;
}

/*
 * to_peer_path relays a client's ChannelData to its peer: validate, look
 * up, check expiry, rewrite the addressing, then strip the 4-byte header
 * by moving the (rewritten) UDP header 4 bytes on and removing the 4 bytes
 * after the IP header, and trim any padding off the end.
 */
static __always_inline int to_peer_path(struct __sk_buff *skb, const struct headers *h, int v6)
{
	__u16 ulen = bpf_ntohs(h->udp.len);
	struct to_peer_value *v;
	struct rewrite r;
	struct udphdr udp;
	__u16 length = 0;
	__u32 pad = 0;
	__be32 cd;
	int res;

	v = find_to_peer(skb, h, &length, &pad, &res);
	switch (res) {
	case FOUND_NONE:
		return NO_ENTRY;
	case FOUND_DROP:
		return TC_ACT_SHOT;
	case FOUND_PASS:
		return PASS;
	}
	if (!v)
		return PASS;
	__builtin_memcpy(&cd, h->cd, CD_HLEN);
	if (probe_csum(skb, v6, h->udp.check, cd, 0)) {
		count(STAT_PASS_PARTIAL);
		return PASS;
	}

	/* From here on the packet is changed: a failure drops it. */
	__builtin_memcpy(r.saddr, v->relayed_addr, 16);
	__builtin_memcpy(r.daddr, v->peer_addr, 16);
	r.sport = bpf_htons(v->relayed_port);
	r.dport = bpf_htons(v->peer_port);
	r.ulen = sizeof(struct udphdr) + length;
	if (pad && unpad(skb, v6, ulen, pad))
		goto fail;
	if (nat(skb, h, v6, &r))
		goto fail;
	if (bpf_skb_load_bytes(skb, UDP_OFF(v6), &udp, sizeof(udp)) ||
	    bpf_skb_store_bytes(skb, UDP_OFF(v6) + CD_HLEN, &udp, sizeof(udp), BPF_F_RECOMPUTE_CSUM) ||
	    bpf_skb_adjust_room(skb, -CD_HLEN, BPF_ADJ_ROOM_NET, 0))
		goto fail;
	if (pad && bpf_skb_change_tail(skb, UDP_OFF(v6) + r.ulen, 0))
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
static __always_inline int to_client_path(struct __sk_buff *skb, const struct headers *h, int v6)
{
	__u16 ulen = bpf_ntohs(h->udp.len);
	__u16 length = ulen - sizeof(struct udphdr);
	struct to_client_value *v;
	struct rewrite r;
	struct udphdr udp;
	__u8 cd[CD_HLEN];
	__be32 cdw;
	int res;

	v = find_to_client(skb, h, &res);
	if (res == FOUND_DROP)
		return TC_ACT_SHOT;
	if (res != FOUND || !v)
		return PASS;
	cd[0] = v->channel >> 8;
	cd[1] = v->channel & 0xff;
	cd[2] = length >> 8;
	cd[3] = length & 0xff;
	__builtin_memcpy(&cdw, cd, CD_HLEN);
	if (probe_csum(skb, v6, h->udp.check, cdw, 1)) {
		count(STAT_PASS_PARTIAL);
		return PASS;
	}

	/* From here on the packet is changed: a failure drops it. */
	__builtin_memcpy(r.saddr, v->listener_addr, 16);
	__builtin_memcpy(r.daddr, v->client_addr, 16);
	r.sport = bpf_htons(v->listener_port);
	r.dport = bpf_htons(v->client_port);
	r.ulen = ulen + CD_HLEN;
	if (nat(skb, h, v6, &r))
		goto fail;
	if (bpf_skb_load_bytes(skb, UDP_OFF(v6), &udp, sizeof(udp)) ||
	    bpf_skb_adjust_room(skb, CD_HLEN, BPF_ADJ_ROOM_NET, 0) ||
	    bpf_skb_store_bytes(skb, UDP_OFF(v6), &udp, sizeof(udp), BPF_F_RECOMPUTE_CSUM) ||
	    bpf_skb_store_bytes(skb, UDP_OFF(v6) + sizeof(udp), cd, CD_HLEN, BPF_F_RECOMPUTE_CSUM))
		goto fail;

	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, length);
	count(STAT_TO_CLIENT);
	return bpf_redirect_neigh(v->ifindex, NULL, 0, 0);
fail:
	count(STAT_ERROR);
	return TC_ACT_SHOT;
}

/*
 * check_headers reports whether the IP and UDP headers copied into h (of
 * an IPv4 packet, v6 0, or an IPv6 one) are ours to look further at: UDP
 * right after the fixed header, no fragment, and a UDP length that is the
 * rest of the IP packet (so no IPv6 jumbogram, whose payload length is 0).
 * It fills h's addresses.
 */
static __always_inline int check_headers(struct headers *h, int v6)
{
	if (v6) {
		if (h->ip6.version != 6 || h->ip6.nexthdr != IPPROTO_UDP ||
		    h->ip6.payload_len != h->udp.len)
			return 0;
		__builtin_memcpy(h->saddr, &h->ip6.saddr, 16);
		__builtin_memcpy(h->daddr, &h->ip6.daddr, 16);
		/* An IPv4-mapped destination would find IPv4 entries:
		 * no such packet is ours. */
		return !is_v4mapped(h->daddr);
	}
	if (h->ip.version != 4 || h->ip.ihl != 5 || h->ip.protocol != IPPROTO_UDP ||
	    (h->ip.frag_off & bpf_htons(0x3fff)) != 0 || /* MF or an offset */
	    bpf_ntohs(h->ip.tot_len) != sizeof(h->ip) + bpf_ntohs(h->udp.len))
		return 0;
	v4mapped(h->saddr, h->ip.saddr);
	v4mapped(h->daddr, h->ip.daddr);
	return 1;
}

/* parse copies the IP and UDP headers of the skb into h and reports
 * whether the program may look further (check_headers). */
static __always_inline int parse(struct __sk_buff *skb, struct headers *h, int v6)
{
	if (v6) {
		if (bpf_skb_load_bytes(skb, IP_OFF, &h->ip6, sizeof(h->ip6)))
			return 0;
	} else {
		if (bpf_skb_load_bytes(skb, IP_OFF, &h->ip, sizeof(h->ip)))
			return 0;
	}
	if (bpf_skb_load_bytes(skb, UDP_OFF(v6), &h->udp, sizeof(h->udp)))
		return 0;
	return check_headers(h, v6);
}

/* relay handles a packet of one family (v6 a constant). */
static __always_inline int relay(struct __sk_buff *skb, int v6)
{
	struct headers h;

	if (!parse(skb, &h, v6))
		return PASS;
	/* A frame that holds less than its headers claim (ip_rcv, which
	 * trims and drops such packets, has not run yet at TC ingress): the
	 * stack decides. */
	if (skb->len < UDP_OFF(v6) + bpf_ntohs(h.udp.len))
		return PASS;
	/* A datagram with a ChannelData-looking start (a first byte of
	 * 0x40-0x7f) may be either a client's ChannelData or a peer's data:
	 * the addresses tell. */
	if (bpf_ntohs(h.udp.len) >= sizeof(h.udp) + CD_HLEN &&
	    !bpf_skb_load_bytes(skb, UDP_OFF(v6) + sizeof(h.udp), h.cd, CD_HLEN) &&
	    (h.cd[0] & 0xc0) == 0x40) {
		int verdict = to_peer_path(skb, &h, v6);

		if (verdict != NO_ENTRY)
			return verdict;
	}
	return to_client_path(skb, &h, v6);
}

SEC("tc")
int channel_data(struct __sk_buff *skb)
{
	/* Only frames for this host: not those a promiscuous interface or a
	 * bridge port sees for another MAC address, which the stack drops. */
	if (skb->pkt_type != PACKET_HOST || skb->gso_segs > 1 || skb->gso_size)
		return PASS;
	if (skb->protocol == bpf_htons(ETH_P_IP))
		return relay(skb, 0);
	if (skb->protocol == bpf_htons(ETH_P_IPV6))
		return relay(skb, 1);
	return PASS;
}

/*
 * The XDP program. XDP runs in the driver before an skb exists, so the
 * TC program's skb helpers are not there: the program rewrites copies of
 * the headers on its stack, fixes the checksums with bpf_csum_diff
 * (folded by hand), moves the start of the frame by 4 bytes with
 * bpf_xdp_adjust_head and writes the headers back at the new start;
 * padding is cut with bpf_xdp_adjust_tail. With no bpf_redirect_neigh
 * (and bpf_fib_lookup refusing to answer unless the ingress interface
 * forwards), the Ethernet addresses come from next_hops, which the loader
 * fills from the kernel's routes and neighbours; a packet whose next hop
 * is not there yet goes to user space. The packet leaves with
 * bpf_redirect to the entry's interface, or XDP_TX when that is the one
 * it came in on.
 *
 * What XDP cannot see: whether the sender left the checksum to the NIC
 * (CHECKSUM_PARTIAL has no meaning before the skb). A real NIC delivers
 * complete checksums; a local sender through a veth (a container) delivers
 * partial ones unless its transmit checksumming is off, and the program
 * would relay such a packet with a checksum its receiver drops. The loader
 * therefore attaches in native (driver) mode only, never generic, and
 * docs/offload.md says that local veth senders must send complete
 * checksums. The program is not declared frags-aware (SEC("xdp"), not
 * "xdp.frags"), so drivers give it single-buffer frames only (they refuse
 * such a program where the MTU needs more than one buffer), whose length
 * is bpf_xdp_get_buff_len's.
 *
 * Packet pointers only ever move by constants here: a variable offset (or
 * a difference of two pointers) is refused by the verifier to a process
 * without CAP_PERFMON, and the edge runs with CAP_BPF and CAP_NET_ADMIN
 * only. Variable lengths are compared as scalars, and the padding word is
 * read with bpf_xdp_load_bytes.
 */

/* fold16 folds a 32-bit ones'-complement sum into 16 bits. */
static __always_inline __u16 fold16(__u64 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/*
 * xdp_nat rewrites the copied headers h to r, as nat does on the skb, and
 * fixes the checksums: the UDP checksum incrementally, with one
 * bpf_csum_diff over the addresses (their 16-byte forms: the ::ffff:
 * prefix of IPv4-mapped addresses cancels out) and one over the ports, the
 * UDP length (in the pseudo-header and the header) and the words that
 * leave or join the datagram: old_cd and new_cd, the ChannelData header
 * removed (to the peer) or added (to the client), and old_pad, the word
 * holding a padding removed (0 when none); the IPv4 header's checksum is
 * computed over its 20 bytes.
 */
static __always_inline int xdp_nat(struct headers *h, int v6, const struct rewrite *r, __be32 old_cd, __be32 new_cd, __be32 old_pad)
{
	__be16 ulen = bpf_htons(r->ulen);
	__be16 from16[8] = {h->udp.source, h->udp.dest, h->udp.len, h->udp.len};
	__be16 to16[8] = {r->sport, r->dport, ulen, ulen};
	__u32 from[4], to[4];
	__s64 s;
	__u16 c;

	__builtin_memcpy(from, from16, 8);
	__builtin_memcpy(to, to16, 8);
	from[2] = old_cd;
	to[2] = new_cd;
	from[3] = old_pad;
	to[3] = 0;
	s = bpf_csum_diff((__be32 *)h->saddr, 32, (__be32 *)r->saddr, 32, (__u16)~h->udp.check);
	if (s < 0)
		return -1;
	s = bpf_csum_diff(from, sizeof(from), to, sizeof(to), (__u32)s);
	if (s < 0)
		return -1;
	c = ~fold16(s);
	h->udp.check = c ? c : 0xffff; /* 0 means no checksum */
	h->udp.source = r->sport;
	h->udp.dest = r->dport;
	h->udp.len = ulen;

	if (v6) {
		/* Version and Traffic Class kept, flow label zeroed. */
		__be32 word0;

		__builtin_memcpy(&word0, &h->ip6, 4);
		word0 &= bpf_htonl(0xfff00000);
		__builtin_memcpy(&h->ip6, &word0, 4);
		h->ip6.payload_len = ulen;
		h->ip6.hop_limit = hop_limit;
		__builtin_memcpy(&h->ip6.saddr, r->saddr, 16);
		__builtin_memcpy(&h->ip6.daddr, r->daddr, 16);
		return 0;
	}
	h->ip.tot_len = bpf_htons(sizeof(struct iphdr) + r->ulen);
	h->ip.ttl = ttl;
	__builtin_memcpy(&h->ip.saddr, r->saddr + 12, 4);
	__builtin_memcpy(&h->ip.daddr, r->daddr + 12, 4);
	h->ip.check = 0;
	s = bpf_csum_diff(NULL, 0, (__be32 *)&h->ip, sizeof(h->ip), 0);
	if (s < 0)
		return -1;
	h->ip.check = ~fold16(s);
	return 0;
}

/* next_hop returns the Ethernet addresses toward addr out of ifindex, or
 * NULL (counted) when the loader has not learnt them. */
static __always_inline struct hop_value *next_hop(__u32 ifindex, const __u8 addr[16])
{
	struct hop_key key = {.ifindex = ifindex};
	struct hop_value *hop;

	__builtin_memcpy(key.addr, addr, 16);
	hop = bpf_map_lookup_elem(&next_hops, &key);
	if (!hop)
		count(STAT_PASS_NO_NEIGH);
	return hop;
}

/*
 * xdp_write writes the Ethernet header toward hop and the headers h at the
 * start of the frame (moved already), and with cd the ChannelData header
 * behind them. It returns -1 if the frame is too short for them.
 */
static __always_inline int xdp_write(struct xdp_md *ctx, const struct headers *h, int v6, const struct hop_value *hop, const __u8 *cd)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (data + UDP_OFF(v6) + sizeof(struct udphdr) + (cd ? CD_HLEN : 0) > end)
		return -1;
	__builtin_memcpy(eth->h_dest, hop->dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, hop->src, ETH_ALEN);
	eth->h_proto = bpf_htons(v6 ? ETH_P_IPV6 : ETH_P_IP);
	if (v6)
		__builtin_memcpy(data + IP_OFF, &h->ip6, sizeof(h->ip6));
	else
		__builtin_memcpy(data + IP_OFF, &h->ip, sizeof(h->ip));
	__builtin_memcpy(data + UDP_OFF(v6), &h->udp, sizeof(h->udp));
	if (cd)
		__builtin_memcpy(data + UDP_OFF(v6) + sizeof(h->udp), cd, CD_HLEN);
	return 0;
}

/* xdp_send sends the rewritten frame out of ifindex. */
static __always_inline int xdp_send(struct xdp_md *ctx, __u32 ifindex)
{
	if (ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(ifindex, 0);
}

/*
 * xdp_to_peer relays a client's ChannelData to its peer: the shared
 * checks, the next hop, the new headers and checksums on the stack, then
 * the start of the frame moves 4 bytes on (over the old headers' first 4
 * bytes: the ChannelData header is what is lost) and the headers are
 * written there; the frame is cut at the end of the new UDP datagram
 * (padding, and any Ethernet padding of a short frame).
 */
static __always_inline int xdp_to_peer(struct xdp_md *ctx, struct headers *h, int v6)
{
	__u16 ulen = bpf_ntohs(h->udp.len);
	struct to_peer_value *v;
	struct hop_value *hop;
	struct rewrite r;
	__u16 length = 0;
	__be32 cd, pw = 0;
	__u32 pad = 0;
	int res, len;

	v = find_to_peer(ctx, h, &length, &pad, &res);
	switch (res) {
	case FOUND_NONE:
		return NO_ENTRY;
	case FOUND_DROP:
		return XDP_DROP;
	case FOUND_PASS:
		return XDP_PASS;
	}
	if (!v)
		return XDP_PASS;
	hop = next_hop(v->ifindex, v->peer_addr);
	if (!hop)
		return XDP_PASS;
	if (pad) {
		/* The word holding the padding: pad (1-3) bytes ending at UDP
		 * offset ulen, a multiple of 4, so aligned as the checksum's
		 * words are (see unpad). */
		__u8 w[4];

		if (bpf_xdp_load_bytes(ctx, UDP_OFF(v6) + ulen - 4, w, 4))
			return XDP_PASS;
		w[0] = 0;
		if (pad < 3)
			w[1] = 0;
		if (pad < 2)
			w[2] = 0;
		__builtin_memcpy(&pw, w, 4);
	}
	__builtin_memcpy(&cd, h->cd, CD_HLEN);
	__builtin_memcpy(r.saddr, v->relayed_addr, 16);
	__builtin_memcpy(r.daddr, v->peer_addr, 16);
	r.sport = bpf_htons(v->relayed_port);
	r.dport = bpf_htons(v->peer_port);
	r.ulen = sizeof(struct udphdr) + length;
	if (xdp_nat(h, v6, &r, cd, 0, pw))
		return XDP_PASS;

	/* From here on the frame is changed: a failure drops it. */
	if (bpf_xdp_adjust_head(ctx, CD_HLEN))
		return XDP_PASS;
	if (xdp_write(ctx, h, v6, hop, NULL))
		goto fail;
	len = bpf_xdp_get_buff_len(ctx); /* one buffer: see channel_data_xdp */
	if (len > UDP_OFF(v6) + r.ulen && bpf_xdp_adjust_tail(ctx, UDP_OFF(v6) + r.ulen - len))
		goto fail;

	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, length);
	count(STAT_TO_PEER);
	return xdp_send(ctx, v->ifindex);
fail:
	count(STAT_ERROR);
	return XDP_DROP;
}

/*
 * xdp_to_client relays a peer's datagram to the client: the shared checks,
 * the next hop, the new headers and checksums on the stack, then the start
 * of the frame moves 4 bytes back and the headers and the ChannelData
 * header are written there, ahead of the datagram's data.
 */
static __always_inline int xdp_to_client(struct xdp_md *ctx, struct headers *h, int v6)
{
	__u16 ulen = bpf_ntohs(h->udp.len);
	__u16 length = ulen - sizeof(struct udphdr);
	struct to_client_value *v;
	struct hop_value *hop;
	struct rewrite r;
	__u8 cd[CD_HLEN];
	__be32 cdw;
	int res;

	v = find_to_client(ctx, h, &res);
	if (res == FOUND_DROP)
		return XDP_DROP;
	if (res != FOUND || !v)
		return XDP_PASS;
	hop = next_hop(v->ifindex, v->client_addr);
	if (!hop)
		return XDP_PASS;
	cd[0] = v->channel >> 8;
	cd[1] = v->channel & 0xff;
	cd[2] = length >> 8;
	cd[3] = length & 0xff;
	__builtin_memcpy(&cdw, cd, CD_HLEN);
	__builtin_memcpy(r.saddr, v->listener_addr, 16);
	__builtin_memcpy(r.daddr, v->client_addr, 16);
	r.sport = bpf_htons(v->listener_port);
	r.dport = bpf_htons(v->client_port);
	r.ulen = ulen + CD_HLEN;
	if (xdp_nat(h, v6, &r, 0, cdw, 0))
		return XDP_PASS;

	/* From here on the frame is changed: a failure drops it. */
	if (bpf_xdp_adjust_head(ctx, -CD_HLEN))
		return XDP_PASS;
	if (xdp_write(ctx, h, v6, hop, cd))
		goto fail;

	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, length);
	count(STAT_TO_CLIENT);
	return xdp_send(ctx, v->ifindex);
fail:
	count(STAT_ERROR);
	return XDP_DROP;
}

/* xdp_relay handles a frame of one family (v6 a constant): the headers are
 * copied out of the frame and checked as the TC program does. */
static __always_inline int xdp_relay(struct xdp_md *ctx, int v6)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct headers h;

	if (data + UDP_OFF(v6) + sizeof(struct udphdr) > end)
		return XDP_PASS;
	if (v6)
		__builtin_memcpy(&h.ip6, data + IP_OFF, sizeof(h.ip6));
	else
		__builtin_memcpy(&h.ip, data + IP_OFF, sizeof(h.ip));
	__builtin_memcpy(&h.udp, data + UDP_OFF(v6), sizeof(h.udp));
	if (!check_headers(&h, v6))
		return XDP_PASS;
	/* The frame must hold the whole datagram (it may hold more: the
	 * Ethernet padding of a short frame). */
	if (UDP_OFF(v6) + bpf_ntohs(h.udp.len) > bpf_xdp_get_buff_len(ctx))
		return XDP_PASS;
	if (bpf_ntohs(h.udp.len) >= sizeof(h.udp) + CD_HLEN &&
	    data + UDP_OFF(v6) + sizeof(h.udp) + CD_HLEN <= end) {
		__builtin_memcpy(h.cd, data + UDP_OFF(v6) + sizeof(h.udp), CD_HLEN);
		if ((h.cd[0] & 0xc0) == 0x40) {
			int verdict = xdp_to_peer(ctx, &h, v6);

			if (verdict != NO_ENTRY)
				return verdict;
		}
	}
	return xdp_to_client(ctx, &h, v6);
}

SEC("xdp")
int channel_data_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (data + ETH_HLEN > end)
		return XDP_PASS;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return xdp_relay(ctx, 0);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return xdp_relay(ctx, 1);
	return XDP_PASS;
}
