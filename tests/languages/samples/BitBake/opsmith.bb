SUMMARY = "opsmith demo"
LICENSE = "MIT"
inherit cargo
SRC_URI = "git://example.com/opsmith.git"
