# summarise services
ports <- c(8080, 3000)
print(mean(ports))
