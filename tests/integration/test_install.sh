#!/usr/bin/env bash
# make install's result works: headers, libsipcx, sipcx.pc and the CMake package build a program.
set -u
bin="${SIPCX_BIN:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
check() { if "$@" >"$tmp/log" 2>&1; then pass=$((pass + 1)); else echo "FAIL: $*"; cat "$tmp/log"; fail=$((fail + 1)); fi; }

check cmake --install "$bin" --prefix "$tmp/prefix"
# A sanitizer build's library needs its runtime in the program too.
san=$(sed -n 's/^SIPCX_SANITIZE:STRING=//p' "$bin/CMakeCache.txt")
sanflags=""
[ -n "$san" ] && sanflags="-fsanitize=${san//;/,}"
cc_name=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$bin/CMakeCache.txt")
cc_name="${cc_name:-cc}"
cat >"$tmp/ex.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <sipcx/sipcx.h>
int main(void)
{
	static struct sipcx_msg m;
	const char *s = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			"From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\n"
			"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	if (sipcx_msg_parse(&m, s, strlen(s), 0) != (int)strlen(s))
		return 1;
	printf("%.*s\n", SIPCX_STR_FMT(sipcx_msg_via(&m)->branch));
	return 0;
}
C
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig:$tmp/prefix/lib/x86_64-linux-gnu/pkgconfig"
# shellcheck disable=SC2046
check "$cc_name" $sanflags "$tmp/ex.c" -o "$tmp/ex_pc" $(pkg-config --cflags --libs --static sipcx)
libdir=$(pkg-config --variable=libdir sipcx)
check bash -c "LD_LIBRARY_PATH='$libdir' '$tmp/ex_pc' | grep -qx z9hG4bK1"

mkdir -p "$tmp/cm"
cat >"$tmp/cm/CMakeLists.txt" <<C
cmake_minimum_required(VERSION 3.20)
project(ex C)
find_package(sipcx REQUIRED)
add_executable(ex $tmp/ex.c)
target_link_libraries(ex sipcx::sipcx)
C
check cmake -S "$tmp/cm" -B "$tmp/cm/b" -DCMAKE_PREFIX_PATH="$tmp/prefix" -DCMAKE_C_COMPILER="$cc_name" -DCMAKE_C_FLAGS="$sanflags"
check cmake --build "$tmp/cm/b"
check bash -c "LD_LIBRARY_PATH='$libdir' '$tmp/cm/b/ex' | grep -qx z9hG4bK1"

echo "test_install: $pass passed, $fail failed"
[ $fail -eq 0 ]
