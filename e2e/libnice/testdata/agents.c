/*
 * agents: two libnice agents in one process, in the [MS-TURN] dialect of
 * Office Communicator 2007 R2 (NICE_COMPATIBILITY_OC2007R2), connect to
 * each other through a TURN server and exchange numbered messages.
 *
 * Usage: agents udp|tcp|tls HOST PORT USERNAME_B64 PASSWORD_B64 COUNT DEADLINE_MS
 *
 * The relay type picks TURN over UDP, over TCP, or over TCP behind the
 * dialect's fixed pseudo-TLS handshake. libnice base64-decodes the
 * username and the password, as Office Communications Server hands them
 * out. Each agent gathers a host candidate on 127.0.0.1 and a relayed one;
 * the other agent learns only the relayed candidates. Once both agents are
 * READY, each sends COUNT messages "avedge-libnice FROM N" (N = 0..COUNT-1)
 * to the other and counts the distinct ones it receives from it; anything
 * else delivered to the application counts as stray (over TCP relays
 * libnice passes up a TURN answer it does not match, or an ICE check, now
 * and then).
 *
 * The run ends with outcome "ok" when both agents received all COUNT
 * messages, "no_relay" when an agent gathered no relayed candidate,
 * "failed" when both agents' components failed, or "timeout" after
 * DEADLINE_MS. Then the agents release their allocations
 * (nice_agent_close_async, bounded by CLOSE_MS) and one JSON line on
 * stdout reports each agent's component state, relayed candidates,
 * selected pair, received, duplicate and stray messages and send errors,
 * and whether both closes completed. Diagnostics go to stderr.
 *
 * Exit status: 0 ok, 1 timeout, 3 no_relay, 4 failed, 2 bad usage.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nice/agent.h>

enum {
  AGENTS = 2,
  COMPONENT = 1,
  MAX_COUNT = 100000,
  /* SEND_INTERVAL_MS paces the messages: one each way per tick. */
  SEND_INTERVAL_MS = 2,
  /* CLOSE_MS bounds the release of the allocations. */
  CLOSE_MS = 5000,
};

enum {
  EXIT_OK = 0,
  EXIT_TIMEOUT = 1,
  EXIT_USAGE = 2,
  EXIT_NO_RELAY = 3,
  EXIT_FAILED = 4,
};

#define PREFIX "avedge-libnice"

typedef struct {
  NiceAgent *agent;
  guint stream;
  gboolean gathered;
  NiceComponentState state;
  NiceComponentState end_state; /* state when the run ended */
  int relays;     /* relayed local candidates */
  int sent;       /* messages handed to nice_agent_send */
  int send_errors;
  int received;   /* distinct messages from the other agent */
  int duplicates; /* repeated ones */
  int stray;      /* payloads that are not messages of the other agent */
  guint8 *seen;   /* seen[n]: message n received */
  gboolean closed;
} Agent;

typedef struct {
  Agent a[AGENTS];
  int count;
  GMainLoop *loop;
  const char *outcome;
  int exit_code;
  gboolean exchanged;
  guint sender; /* the send tick's source, 0 when not running */
  int closing;  /* closes not yet completed */
} Run;

static Run run;

/* started is the monotonic time the run started, in microseconds. */
static gint64 started;

/* note prints a diagnostic line on stderr behind the milliseconds since
 * the start. */
static void G_GNUC_PRINTF(1, 2) note(const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%6.1f ms ", (double)(g_get_monotonic_time() - started) / 1000.0);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* finish ends the main loop with outcome (the first one set wins). */
static void finish(const char *outcome, int exit_code) {
  if (run.outcome != NULL)
    return;
  run.outcome = outcome;
  run.exit_code = exit_code;
  note("outcome %s", outcome);
  g_main_loop_quit(run.loop);
}

static gboolean on_deadline(gpointer data) {
  (void)data;
  finish("timeout", EXIT_TIMEOUT);
  return G_SOURCE_REMOVE;
}

/* relayed_candidates returns agent i's relayed local candidates (the list
 * owns copies) and stores their number. */
static GSList *relayed_candidates(int i) {
  Agent *ag = &run.a[i];
  GSList *all = nice_agent_get_local_candidates(ag->agent, ag->stream, COMPONENT);
  GSList *relayed = NULL;
  for (GSList *l = all; l != NULL; l = l->next) {
    NiceCandidate *c = l->data;
    char ip[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&c->addr, ip);
    note("[%d] local candidate %s %s %s:%u", i, nice_candidate_type_to_string(c->type),
            nice_candidate_transport_to_string(c->transport), ip, nice_address_get_port(&c->addr));
    if (c->type == NICE_CANDIDATE_TYPE_RELAYED)
      relayed = g_slist_append(relayed, nice_candidate_copy(c));
  }
  g_slist_free_full(all, (GDestroyNotify)nice_candidate_free);
  ag->relays = (int)g_slist_length(relayed);
  return relayed;
}

/* exchange gives each agent the other's credentials and relayed
 * candidates, once both have gathered. */
static void exchange(void) {
  GSList *relayed[AGENTS];
  for (int i = 0; i < AGENTS; i++)
    relayed[i] = relayed_candidates(i);
  if (run.a[0].relays == 0 || run.a[1].relays == 0) {
    for (int i = 0; i < AGENTS; i++)
      g_slist_free_full(relayed[i], (GDestroyNotify)nice_candidate_free);
    finish("no_relay", EXIT_NO_RELAY);
    return;
  }
  for (int i = 0; i < AGENTS; i++) {
    Agent *from = &run.a[i], *to = &run.a[1 - i];
    gchar *ufrag = NULL, *pwd = NULL;
    /* OC2007R2 uses the stream's credentials, not per-candidate ones. */
    nice_agent_get_local_credentials(from->agent, from->stream, &ufrag, &pwd);
    nice_agent_set_remote_credentials(to->agent, to->stream, ufrag, pwd);
    g_free(ufrag);
    g_free(pwd);
    int n = nice_agent_set_remote_candidates(to->agent, to->stream, COMPONENT, relayed[i]);
    note("[%d] gave %d relayed candidates to %d", i, n, 1 - i);
    g_slist_free_full(relayed[i], (GDestroyNotify)nice_candidate_free);
  }
  run.exchanged = TRUE;
}

static void on_gathering_done(NiceAgent *agent, guint stream, gpointer data) {
  (void)agent;
  (void)stream;
  int i = GPOINTER_TO_INT(data);
  note("[%d] gathering done", i);
  run.a[i].gathered = TRUE;
  if (run.a[0].gathered && run.a[1].gathered && !run.exchanged)
    exchange();
}

/* send_tick sends each agent's next message until all are sent. */
static gboolean send_tick(gpointer data) {
  (void)data;
  gboolean more = FALSE;
  for (int i = 0; i < AGENTS; i++) {
    Agent *ag = &run.a[i];
    if (ag->sent >= run.count)
      continue;
    char msg[64];
    int len = snprintf(msg, sizeof msg, PREFIX " %d %d", i, ag->sent);
    if (nice_agent_send(ag->agent, ag->stream, COMPONENT, (guint)len, msg) != len)
      ag->send_errors++;
    ag->sent++;
    more = more || ag->sent < run.count;
  }
  if (!more)
    run.sender = 0;
  return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void on_state_changed(NiceAgent *agent, guint stream, guint component, guint state, gpointer data) {
  (void)agent;
  (void)stream;
  (void)component;
  int i = GPOINTER_TO_INT(data);
  note("[%d] state %s", i, nice_component_state_to_string(state));
  run.a[i].state = state;
  if (run.a[0].state == NICE_COMPONENT_STATE_READY && run.a[1].state == NICE_COMPONENT_STATE_READY &&
      run.a[0].sent == 0 && run.sender == 0)
    run.sender = g_timeout_add(SEND_INTERVAL_MS, send_tick, NULL);
  if (run.a[0].state == NICE_COMPONENT_STATE_FAILED && run.a[1].state == NICE_COMPONENT_STATE_FAILED)
    finish("failed", EXIT_FAILED);
}

static void on_pair(NiceAgent *agent, guint stream, guint component, NiceCandidate *local, NiceCandidate *remote,
                    gpointer data) {
  (void)agent;
  (void)stream;
  (void)component;
  char l[NICE_ADDRESS_STRING_LEN], r[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(&local->addr, l);
  nice_address_to_string(&remote->addr, r);
  note("[%d] selected %s %s %s:%u <-> %s %s %s:%u", GPOINTER_TO_INT(data),
          nice_candidate_type_to_string(local->type), nice_candidate_transport_to_string(local->transport), l,
          nice_address_get_port(&local->addr), nice_candidate_type_to_string(remote->type),
          nice_candidate_transport_to_string(remote->transport), r, nice_address_get_port(&remote->addr));
}

/* message_number returns N of a message "avedge-libnice FROM N" of the
 * given sender, or -1 for any other payload. */
static int message_number(const gchar *buf, guint len, int from) {
  char text[64];
  if (len >= sizeof text)
    return -1;
  memcpy(text, buf, len);
  text[len] = '\0';
  int f, n, end = -1;
  if (sscanf(text, PREFIX " %d %d%n", &f, &n, &end) != 2 || end != (int)len || f != from || n < 0 ||
      n >= run.count)
    return -1;
  return n;
}

static void on_recv(NiceAgent *agent, guint stream, guint component, guint len, gchar *buf, gpointer data) {
  (void)agent;
  (void)stream;
  (void)component;
  int i = GPOINTER_TO_INT(data);
  Agent *ag = &run.a[i];
  int n = message_number(buf, len, 1 - i);
  if (n < 0) {
    ag->stray++;
    note("[%d] stray payload of %u bytes: %02x%02x%02x%02x...", i, len, len > 0 ? (guint8)buf[0] : 0,
         len > 1 ? (guint8)buf[1] : 0, len > 2 ? (guint8)buf[2] : 0, len > 3 ? (guint8)buf[3] : 0);
    return;
  }
  if (ag->seen[n]) {
    ag->duplicates++;
    return;
  }
  ag->seen[n] = 1;
  ag->received++;
  if (run.a[0].received == run.count && run.a[1].received == run.count)
    finish("ok", EXIT_OK);
}

static void on_closed(GObject *source, GAsyncResult *res, gpointer data) {
  (void)source;
  (void)res;
  run.a[GPOINTER_TO_INT(data)].closed = TRUE;
  if (--run.closing == 0)
    g_main_loop_quit(run.loop);
}

static gboolean on_close_deadline(gpointer data) {
  (void)data;
  g_main_loop_quit(run.loop);
  return G_SOURCE_REMOVE;
}

/* close_agents releases the agents' allocations on the server, waiting at
 * most CLOSE_MS for it. */
static void close_agents(void) {
  if (run.sender != 0) {
    g_source_remove(run.sender);
    run.sender = 0;
  }
  run.closing = AGENTS;
  for (int i = 0; i < AGENTS; i++)
    nice_agent_close_async(run.a[i].agent, on_closed, GINT_TO_POINTER(i));
  guint deadline = g_timeout_add(CLOSE_MS, on_close_deadline, NULL);
  g_main_loop_run(run.loop);
  if (run.closing > 0) {
    note("agents not closed within %d ms", CLOSE_MS);
  } else {
    note("agents closed");
    g_source_remove(deadline);
  }
}

/* print_candidate prints c as a JSON object. */
static void print_candidate(const NiceCandidate *c) {
  char ip[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(&c->addr, ip);
  const char *fmt = nice_address_ip_version(&c->addr) == 6 ? "[%s]:%u" : "%s:%u";
  char addr[NICE_ADDRESS_STRING_LEN + 8];
  snprintf(addr, sizeof addr, fmt, ip, nice_address_get_port(&c->addr));
  printf("{\"type\":\"%s\",\"transport\":\"%s\",\"addr\":\"%s\"}", nice_candidate_type_to_string(c->type),
         nice_candidate_transport_to_string(c->transport), addr);
}

/* print_result prints the run's result as one JSON line. */
static void print_result(NiceCandidate *local[AGENTS], NiceCandidate *remote[AGENTS]) {
  printf("{\"outcome\":\"%s\",\"closed\":%s,\"agents\":[", run.outcome,
         run.a[0].closed && run.a[1].closed ? "true" : "false");
  for (int i = 0; i < AGENTS; i++) {
    Agent *ag = &run.a[i];
    printf("%s{\"state\":\"%s\",\"relay_candidates\":%d,\"selected\":", i > 0 ? "," : "",
           nice_component_state_to_string(ag->end_state), ag->relays);
    if (local[i] != NULL && remote[i] != NULL) {
      printf("{\"local\":");
      print_candidate(local[i]);
      printf(",\"remote\":");
      print_candidate(remote[i]);
      printf("}");
    } else {
      printf("null");
    }
    printf(",\"sent\":%d,\"send_errors\":%d,\"received\":%d,\"duplicates\":%d,\"stray\":%d}", ag->sent,
           ag->send_errors, ag->received, ag->duplicates, ag->stray);
  }
  printf("]}\n");
  fflush(stdout);
}

/* parse_int parses a decimal integer in [min, max]. */
static gboolean parse_int(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

/* parse_relay_type maps "udp", "tcp" and "tls" to libnice's relay types. */
static gboolean parse_relay_type(const char *s, NiceRelayType *out) {
  if (strcmp(s, "udp") == 0)
    *out = NICE_RELAY_TYPE_TURN_UDP;
  else if (strcmp(s, "tcp") == 0)
    *out = NICE_RELAY_TYPE_TURN_TCP;
  else if (strcmp(s, "tls") == 0)
    *out = NICE_RELAY_TYPE_TURN_TLS;
  else
    return FALSE;
  return TRUE;
}

/* start_agent creates agent i, controlling when i is 0, with a host
 * candidate on 127.0.0.1 and the TURN server, and starts gathering. */
static void start_agent(int i, const char *host, guint port, const char *user, const char *pass, NiceRelayType type) {
  Agent *ag = &run.a[i];
  ag->agent = nice_agent_new(g_main_loop_get_context(run.loop), NICE_COMPATIBILITY_OC2007R2);
  g_object_set(ag->agent, "controlling-mode", i == 0, NULL);
  /* Loopback addresses are skipped unless given explicitly. */
  NiceAddress lo;
  nice_address_init(&lo);
  nice_address_set_from_string(&lo, "127.0.0.1");
  nice_agent_add_local_address(ag->agent, &lo);
  ag->stream = nice_agent_add_stream(ag->agent, 1);
  nice_agent_set_relay_info(ag->agent, ag->stream, COMPONENT, host, port, user, pass, type);
  g_signal_connect(ag->agent, "candidate-gathering-done", G_CALLBACK(on_gathering_done), GINT_TO_POINTER(i));
  g_signal_connect(ag->agent, "component-state-changed", G_CALLBACK(on_state_changed), GINT_TO_POINTER(i));
  g_signal_connect(ag->agent, "new-selected-pair-full", G_CALLBACK(on_pair), GINT_TO_POINTER(i));
  nice_agent_attach_recv(ag->agent, ag->stream, COMPONENT, g_main_loop_get_context(run.loop), on_recv,
                         GINT_TO_POINTER(i));
  ag->seen = g_malloc0((gsize)run.count);
  nice_agent_gather_candidates(ag->agent, ag->stream);
}

int main(int argc, char **argv) {
  NiceRelayType type;
  long port, count, deadline;
  if (argc != 8 || !parse_relay_type(argv[1], &type) || !parse_int(argv[3], 1, 65535, &port) ||
      !parse_int(argv[6], 1, MAX_COUNT, &count) || !parse_int(argv[7], 1, 3600 * 1000, &deadline)) {
    fprintf(stderr, "usage: %s udp|tcp|tls HOST PORT USERNAME_B64 PASSWORD_B64 COUNT DEADLINE_MS\n", argv[0]);
    return EXIT_USAGE;
  }
  run.count = (int)count;
  started = g_get_monotonic_time();
  run.loop = g_main_loop_new(NULL, FALSE);
  for (int i = 0; i < AGENTS; i++)
    start_agent(i, argv[2], (guint)port, argv[4], argv[5], type);
  guint timer = g_timeout_add((guint)deadline, on_deadline, NULL);
  g_main_loop_run(run.loop);
  if (run.exit_code != EXIT_TIMEOUT)
    g_source_remove(timer);

  NiceCandidate *local[AGENTS] = {NULL}, *remote[AGENTS] = {NULL};
  for (int i = 0; i < AGENTS; i++) {
    NiceCandidate *l, *r;
    run.a[i].end_state = run.a[i].state;
    if (nice_agent_get_selected_pair(run.a[i].agent, run.a[i].stream, COMPONENT, &l, &r)) {
      local[i] = nice_candidate_copy(l);
      remote[i] = nice_candidate_copy(r);
    }
  }
  close_agents();
  print_result(local, remote);
  for (int i = 0; i < AGENTS; i++) {
    if (local[i] != NULL)
      nice_candidate_free(local[i]);
    if (remote[i] != NULL)
      nice_candidate_free(remote[i]);
    g_object_unref(run.a[i].agent);
    g_free(run.a[i].seen);
  }
  g_main_loop_unref(run.loop);
  return run.exit_code;
}
