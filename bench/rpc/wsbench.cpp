// atrium-wsbench: a lean JSON-RPC-over-WebSocket load generator for loopback benchmarks.
// One thread, POSIX sockets and poll(); each connection keeps --window requests in flight
// (pipelined) and times each one by its id. Prints one line:
//   ws METHOD: N requests in S s = R req/s, p50 X ms, p99 Y ms, errors E
//
//   atrium-wsbench --url ws://127.0.0.1:8088/rpc --method server.ping --duration 10 --window 32
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1", port = "8088", path = "/rpc";
  std::string method = "server.ping", params, token, protocol;
  double duration = 10;
  int window = 16, connections = 1;
};

[[noreturn]] void Die(int code, const std::string& why) {
  std::fprintf(stderr, "atrium-wsbench: %s\n", why.c_str());
  std::exit(code);
}

// ws://HOST[:PORT][/PATH]; [v6] hosts in brackets.
void ParseUrl(const std::string& url, Options& o) {
  if (!url.starts_with("ws://")) Die(2, "--url must start with ws:// (no TLS: loopback only)");
  std::string rest = url.substr(5);
  const size_t slash = rest.find('/');
  o.path = slash == std::string::npos ? "/" : rest.substr(slash);
  std::string hostPort = rest.substr(0, slash);
  size_t colon = hostPort.rfind(':');
  if (hostPort.starts_with("[")) {
    const size_t close = hostPort.find(']');
    o.host = hostPort.substr(1, close - 1);
    colon = close + 1 < hostPort.size() && hostPort[close + 1] == ':' ? close + 1 : std::string::npos;
  } else {
    o.host = hostPort.substr(0, colon);
  }
  o.port = colon == std::string::npos ? "80" : hostPort.substr(colon + 1);
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--help") {
      std::puts(
          "Usage: atrium-wsbench [--url ws://127.0.0.1:8088/rpc] [--method server.ping] [--params JSON]\n"
          "                      [--token T] [--duration SECONDS] [--window N] [--connections C]\n"
          "                      [--protocol SUBPROTOCOL]\n"
          "--token sends auth.resume {token} first on each connection. --window requests stay in\n"
          "flight per connection. Loopback addresses only.");
      std::exit(0);
    }
    if (i + 1 >= argc) Die(2, std::string(a) + " needs a value (try --help)");
    const std::string v = argv[++i];
    if (a == "--url")
      ParseUrl(v, o);
    else if (a == "--method")
      o.method = v;
    else if (a == "--params")
      o.params = v;
    else if (a == "--token")
      o.token = v;
    else if (a == "--protocol")
      o.protocol = v;
    else if (a == "--duration")
      o.duration = std::atof(v.c_str());
    else if (a == "--window")
      o.window = std::atoi(v.c_str());
    else if (a == "--connections")
      o.connections = std::atoi(v.c_str());
    else
      Die(2, "unknown option " + std::string(a) + " (try --help)");
  }
  if (!(o.duration > 0 && o.duration <= 600)) Die(2, "--duration must be in (0, 600] seconds");
  if (o.window < 1 || o.window > 4096) Die(2, "--window must be in 1..4096");
  if (o.connections < 1 || o.connections > 1000) Die(2, "--connections must be in 1..1000");
  return o;
}

uint32_t Random() {  // xorshift32: masking keys need not be strong against a loopback server
  static uint32_t s = uint32_t(Clock::now().time_since_epoch().count()) | 1;
  s ^= s << 13, s ^= s >> 17, s ^= s << 5;
  return s;
}

// Appends one masked client frame (RFC 6455 §5.2).
void AppendFrame(std::string& out, uint8_t opcode, std::string_view payload) {
  const uint64_t n = payload.size();
  out.push_back(char(0x80 | opcode));
  if (n < 126) {
    out.push_back(char(0x80 | n));
  } else if (n < 65536) {
    out.push_back(char(0x80 | 126));
    for (int s = 8; s >= 0; s -= 8) out.push_back(char(n >> s));
  } else {
    out.push_back(char(0x80 | 127));
    for (int s = 56; s >= 0; s -= 8) out.push_back(char(n >> s));
  }
  const uint32_t key = Random();
  char mask[4];
  std::memcpy(mask, &key, 4);
  out.append(mask, 4);
  const size_t at = out.size();
  out.append(payload);
  for (size_t i = 0; i < n; ++i) out[at + i] ^= mask[i & 3];
}

// The top-level "id" and whether a top-level "error" member is present, found by scanning
// with a depth counter instead of parsing: replies of any size stay cheap.
struct Reply {
  bool hasId = false, error = false;
  uint64_t id = 0;
};

Reply ScanReply(std::string_view s) {
  Reply r;
  int depth = 0;
  const auto valueAt = [&](size_t j) {
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) ++j;
    return j;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']')
      --depth;
    else if (c == '"') {
      const size_t start = ++i;
      for (; i < s.size() && s[i] != '"'; ++i)
        if (s[i] == '\\') ++i;
      if (depth != 1) continue;
      const std::string_view key = s.substr(start, i - start);
      size_t j = valueAt(i + 1);
      if (j >= s.size() || s[j] != ':') continue;
      j = valueAt(j + 1);
      if (key == "id")
        r.hasId = std::from_chars(s.data() + j, s.data() + s.size(), r.id).ec == std::errc();
      else if (key == "error")
        r.error = s.substr(j, 4) != "null";
    }
  }
  return r;
}

struct Connection {
  int fd = -1;
  bool open = false;
  std::string in, out, fragments;
  size_t inPos = 0, outPos = 0;
  uint8_t fragmentOp = 0;
  uint64_t nextId = 1;
  std::unordered_map<uint64_t, Clock::time_point> pending;
};

// Calls onMessage(text) for each complete data message in c.in; answers pings; a close
// frame marks the connection closed.
template <typename F>
void ParseFrames(Connection& c, F&& onMessage) {
  while (c.open) {
    const auto* p = reinterpret_cast<const uint8_t*>(c.in.data() + c.inPos);
    const size_t avail = c.in.size() - c.inPos;
    if (avail < 2) break;
    const bool fin = p[0] & 0x80, masked = p[1] & 0x80;
    const uint8_t op = p[0] & 0x0f;
    uint64_t len = p[1] & 0x7f;
    size_t hdr = 2;
    if (len == 126) {
      if (avail < 4) break;
      len = uint64_t(p[2]) << 8 | p[3], hdr = 4;
    } else if (len == 127) {
      if (avail < 10) break;
      len = 0, hdr = 10;
      for (int i = 2; i < 10; ++i) len = len << 8 | p[i];
    }
    const size_t maskAt = hdr;
    if (masked) hdr += 4;
    if (avail < hdr || avail - hdr < len) break;
    char* payload = c.in.data() + c.inPos + hdr;
    if (masked)
      for (uint64_t i = 0; i < len; ++i) payload[i] ^= char(p[maskAt + (i & 3)]);
    const std::string_view data(payload, len);
    c.inPos += hdr + len;
    if (op == 0x8) {
      c.open = false;
    } else if (op == 0x9) {
      AppendFrame(c.out, 0xA, data);
    } else if (op == 0x0 || op == 0x1 || op == 0x2) {
      if (fin && op != 0 && c.fragments.empty()) {
        onMessage(data);
      } else {
        c.fragments.append(data);
        if (op != 0) c.fragmentOp = op;
        if (fin) onMessage(std::string_view(c.fragments)), c.fragments.clear();
      }
    }
  }
  if (c.inPos == c.in.size())
    c.in.clear(), c.inPos = 0;
  else if (c.inPos > (1 << 16))
    c.in.erase(0, c.inPos), c.inPos = 0;
}

// Sends what is queued; false when the peer is gone.
bool Flush(Connection& c) {
  while (c.outPos < c.out.size()) {
    const ssize_t n = send(c.fd, c.out.data() + c.outPos, c.out.size() - c.outPos, MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    c.outPos += size_t(n);
  }
  c.out.clear(), c.outPos = 0;
  return true;
}

// Reads what is there; false on EOF or error.
bool Fill(Connection& c) {
  char buf[1 << 16];
  const ssize_t n = recv(c.fd, buf, sizeof buf, 0);
  if (n > 0) return c.in.append(buf, size_t(n)), true;
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}

Connection Connect(const Options& o) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (const int e = getaddrinfo(o.host.c_str(), o.port.c_str(), &hints, &res); e != 0)
    Die(3, o.host + ": " + gai_strerror(e));
  const sockaddr* sa = res->ai_addr;
  const bool loopback = (sa->sa_family == AF_INET &&
                         (ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) >> 24) == 127) ||
                        (sa->sa_family == AF_INET6 &&
                         IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr));
  if (!loopback) Die(2, o.host + " is not a loopback address; this tool only loads 127.0.0.1 / ::1");
  Connection c;
  c.fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const timeval timeout{5, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c.fd, sa, res->ai_addrlen) != 0)
    Die(3, "connect " + o.host + ":" + o.port + ": " + strerror(errno));
  freeaddrinfo(res);

  c.out = "GET " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + o.port +
          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
          (o.protocol.empty() ? "" : "Sec-WebSocket-Protocol: " + o.protocol + "\r\n") + "\r\n";
  c.open = true;
  if (!Flush(c)) Die(3, "handshake: send failed");
  size_t end;
  while ((end = c.in.find("\r\n\r\n")) == std::string::npos)
    if (!Fill(c) || c.in.size() > 16384) Die(3, "handshake: no reply from " + o.host + ":" + o.port);
  if (!c.in.starts_with("HTTP/1.1 101")) Die(3, "handshake refused: " + c.in.substr(0, c.in.find('\r')));
  c.in.erase(0, end + 4);

  if (!o.token.empty()) {  // authenticate this connection before the clock starts
    AppendFrame(c.out, 0x1,
                R"({"jsonrpc":"2.0","id":0,"method":"auth.resume","params":{"token":")" + o.token + "\"}}");
    if (!Flush(c)) Die(3, "auth.resume: send failed");
    bool done = false;
    while (!done) {
      if (!Fill(c)) Die(3, "auth.resume: no reply");
      ParseFrames(c, [&](std::string_view msg) {
        const Reply r = ScanReply(msg);
        if (!r.hasId || r.id != 0) return;
        if (r.error) Die(1, "auth.resume failed: " + std::string(msg));
        done = true;
      });
      if (!c.open) Die(3, "auth.resume: the server closed the connection");
    }
  }
  const timeval none{0, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
  setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  std::vector<Connection> conns;
  for (int i = 0; i < o.connections; ++i) conns.push_back(Connect(o));

  // Every request is PREFIX + id + "}".
  const std::string prefix = R"({"jsonrpc":"2.0","method":")" + o.method + "\"" +
                             (o.params.empty() ? "" : ",\"params\":" + o.params) + ",\"id\":";
  std::string body;
  const auto sendRequest = [&](Connection& c, Clock::time_point now) {
    const uint64_t id = c.nextId++;
    char digits[24];
    body.assign(prefix).append(digits, std::to_chars(digits, digits + sizeof digits, id).ptr).push_back('}');
    AppendFrame(c.out, 0x1, body);
    c.pending.emplace(id, now);
  };

  std::vector<float> latencyMs;
  latencyMs.reserve(1 << 20);
  uint64_t errors = 0;
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.duration));
  for (Connection& c : conns) {
    for (int i = 0; i < o.window; ++i) sendRequest(c, start);
    Flush(c);
  }

  std::vector<pollfd> fds(conns.size());
  Clock::time_point now = start;
  while (now < deadline) {
    size_t open = 0;
    for (size_t i = 0; i < conns.size(); ++i) {
      fds[i] = {conns[i].open ? conns[i].fd : -1, short(POLLIN | (conns[i].out.empty() ? 0 : POLLOUT)), 0};
      open += conns[i].open;
    }
    if (!open) break;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    if (poll(fds.data(), fds.size(), int(std::clamp<int64_t>(left, 1, 100))) < 0 && errno != EINTR)
      Die(3, std::string("poll: ") + strerror(errno));
    now = Clock::now();
    for (size_t i = 0; i < conns.size(); ++i) {
      Connection& c = conns[i];
      if (!c.open || !fds[i].revents) continue;
      if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
        const bool alive = Fill(c);
        ParseFrames(c, [&](std::string_view msg) {
          const Reply r = ScanReply(msg);
          const auto it = r.hasId ? c.pending.find(r.id) : c.pending.end();
          if (it == c.pending.end()) return;  // a notification, or a reply we did not ask for
          latencyMs.push_back(std::chrono::duration<float, std::milli>(now - it->second).count());
          errors += r.error;
          c.pending.erase(it);
          if (now < deadline) sendRequest(c, now);
        });
        if (!alive) c.open = false;
      }
      if (c.open && !Flush(c)) c.open = false;
      if (!c.open) {
        ++errors;
        std::fprintf(stderr, "atrium-wsbench: connection %zu closed by the server\n", i);
      }
    }
  }
  const double seconds = std::chrono::duration<double>(std::min(now, deadline) - start).count();
  for (Connection& c : conns) close(c.fd);

  const size_t n = latencyMs.size();
  const auto percentile = [&](double q) {
    if (!n) return 0.0;
    const auto at = latencyMs.begin() + std::min(n - 1, size_t(q * double(n)));
    std::nth_element(latencyMs.begin(), at, latencyMs.end());
    return double(*at);
  };
  const double p50 = percentile(0.50), p99 = percentile(0.99);
  std::printf("ws %s: %zu requests in %.1f s = %.0f req/s, p50 %.3f ms, p99 %.3f ms, errors %llu\n",
              o.method.c_str(), n, seconds, seconds > 0 ? double(n) / seconds : 0.0, p50, p99,
              static_cast<unsigned long long>(errors));
  return 0;
}
