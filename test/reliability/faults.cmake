# The fault tests (test/reliability/faults.sh): awf_test_executor, a real executor over HTTP, and
# (its "create" mode) an application enqueuing over SQL, both killed and restarted by the script.
add_executable(awf_test_executor test/reliability/executor.cpp)
target_link_libraries(awf_test_executor PRIVATE PkgConfig::PQXX Threads::Threads)
