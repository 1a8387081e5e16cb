module gmprt/bench

go 1.19
