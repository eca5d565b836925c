-- server.ping over HTTP keep-alive (no authentication):
--   wrk -t1 -c8 -d10s -s bench/rpc/ping.lua http://127.0.0.1:8088/rpc
rpc_method, rpc_params = "server.ping", nil
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "rpc.lua")
