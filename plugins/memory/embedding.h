// Embeddings through sluice itself: the request memory sends to its embedding model (a logical
// model of the config, POST /v1/embeddings) and the vector read from the answer. Pure logic.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace memory {

// {"model":"<model>","input":["<text>"],"encoding_format":"float"}
std::string embedding_request_body(std::string_view model, std::string_view text);

// The first vector of an OpenAI embeddings answer. For anything but a 200 with
// data[0].embedding (a non-empty list of numbers), false with *error saying what sluice
// answered — its error message when it gave one ("rate limit exceeded ...").
bool read_embedding(int status, std::string_view body, std::vector<float>* out, std::string* error);

}  // namespace memory
