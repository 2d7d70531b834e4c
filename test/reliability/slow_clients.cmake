# Slow clients against awf-bridge (test/reliability/slow_clients.sh): a poll(2) driver of slow
# connections and normal clients, reporting latencies and when the bridge closed each connection.
add_executable(awf_slow_clients test/reliability/slow_clients.cpp)
target_link_libraries(awf_slow_clients PRIVATE Boost::boost Threads::Threads)
