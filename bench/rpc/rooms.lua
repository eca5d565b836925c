-- room.list over HTTP keep-alive, authenticated with $ATRIUM_TOKEN:
--   ATRIUM_TOKEN=... wrk -t1 -c8 -d10s -s bench/rpc/rooms.lua http://127.0.0.1:8088/rpc
rpc_method, rpc_params = "room.list", "{}"
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "rpc.lua")
