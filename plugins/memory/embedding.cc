#include "memory/embedding.h"

#include <simdjson.h>

#include "memory/json_text.h"

namespace memory {
namespace {

// The message of an OpenAI error body, or "".
std::string error_message_of(simdjson::dom::element doc) {
  std::string_view message;
  if (!doc["error"]["message"].get_string().get(message)) return std::string(message);
  return {};
}

}  // namespace

std::string embedding_request_body(std::string_view model, std::string_view text) {
  std::string body = "{\"model\":";
  append_json_string(body, model);
  body.append(",\"input\":[");
  append_json_string(body, text);
  body.append("],\"encoding_format\":\"float\"}");
  return body;
}

bool read_embedding(int status, std::string_view body, std::vector<float>* out,
                    std::string* error) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const bool json = !parser.parse(body.data(), body.size()).get(doc);
  if (status != 200) {
    std::string message = json ? error_message_of(doc) : std::string();
    *error = "answered " + std::to_string(status) + (message.empty() ? "" : ": " + message);
    return false;
  }
  simdjson::dom::array values;
  if (!json || doc["data"].at(0)["embedding"].get_array().get(values)) {
    *error = "answered without data[0].embedding as a list of numbers";
    return false;
  }
  out->clear();
  for (simdjson::dom::element v : values) {
    double x = 0;
    if (v.get_double().get(x)) {
      *error = "answered an embedding with a value that is not a number";
      return false;
    }
    out->push_back(static_cast<float>(x));
  }
  if (out->empty()) {
    *error = "answered an empty embedding";
    return false;
  }
  return true;
}

}  // namespace memory
