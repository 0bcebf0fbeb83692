// Placeholder until issue 20 lands (see /work/ISSUE20-DESIGN.md).
#include "lbmail/shaping/reply_classifier.h"
