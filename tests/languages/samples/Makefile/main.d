build/main.o: src/main.c src/util.h \
  src/config.h
