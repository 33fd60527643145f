# Turn a file into a C array: cmake -DIN=<file> -DOUT=<c file> -DNAME=<symbol> -P embed.cmake
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN}; do not edit. */\n"
    "const unsigned char ${NAME}[] = {${body}0x00};\n"
    "const unsigned long ${NAME}_len = sizeof(${NAME}) - 1;\n")
