# Sweeper vs claimers (issue 8, item 5): claimers hold tasks with tiny timeouts while the
# background worker re-queues them; no deadlock, no serialization failure, nothing stuck.
# Run by test/reliability/sweeper.sh inside a cluster with awf preloaded.
add_executable(awf_sweeper_check test/reliability/sweeper_check.cpp)
target_link_libraries(awf_sweeper_check PRIVATE PkgConfig::PQXX Threads::Threads)
