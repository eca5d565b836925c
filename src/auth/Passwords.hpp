// Password hashing (libsodium argon2id) and the random strings the server hands out:
// token ids, numeric codes, the first-run admin password. Free functions, no state
// beyond libsodium's own one-time initialisation.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace atrium::auth {

// Initialises libsodium once (thread-safe, idempotent); throws AppError(Internal) if
// it cannot. Every function here calls it; other users of libsodium should too.
void InitSodium();

// An argon2id hash string ("$argon2id$..."), interactive limits. Throws
// AppError(Internal) when hashing fails (out of memory).
std::string HashPassword(std::string_view password);

// True when `password` matches `hash`. False for an empty, truncated or garbage hash;
// never throws for bad input. Passwords may contain NUL bytes.
bool VerifyPassword(std::string_view hash, std::string_view password);

// `bytes` random bytes as 2*bytes lowercase hex characters.
std::string RandomHex(size_t bytes);

// `n` uniformly random decimal digits, the first one non-zero ("" for n == 0).
std::string RandomDigits(size_t n);

// 16 characters from an alphabet without look-alikes (no 0/O/o, 1/l/I/i), for the
// password printed on first run.
std::string RandomPassword();

}  // namespace atrium::auth
