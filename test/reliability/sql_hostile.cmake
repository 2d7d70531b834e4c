# Hostile arguments for every SQL function of the extension (issue 8, item 8).
# Run by test/reliability/sql_hostile.sh inside a cluster with awf installed.
add_executable(awf_sql_hostile test/reliability/sql_hostile.cpp)
target_link_libraries(awf_sql_hostile PRIVATE PkgConfig::PQXX Threads::Threads)
