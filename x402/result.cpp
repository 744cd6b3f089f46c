#include "x402/result.h"
