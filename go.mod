module venue

go 1.26.8
