// file.list and file.delete: the materials uploaded into a room (POST /rooms/{roomId}/files,
// see FileRoutes.cpp). Listing is for the room's readers (RoomContent.hpp); deleting for the
// uploader and the room's hosts.
#include "core/Log.hpp"
#include "rpc/Services.hpp"
#include "rpc/methods/RoomContent.hpp"
#include "rpc/methods/Views.hpp"
#include "store/Files.hpp"

#include <glib/gstdio.h>

#include <cerrno>
#include <cstring>

#define GST_CAT_DEFAULT atrium_rpc_debug

namespace atrium::rpc {

using nlohmann::json;

void RegisterFileRoutes(Services& s);  // FileRoutes.cpp

void RegisterFileMethods(Dispatcher& d, Services& s) {
  RegisterFileRoutes(s);
  d.Add("file.list", Access::Public, [&s](Call& c) {
    int64_t roomId = c.params.id("roomId");
    store::Room room = views::RoomOr404(s, roomId);
    content::RequireReader(s, c, room);
    json files = json::array();
    for (const auto& f : store::Files(s.db).List(roomId)) files.push_back(content::FileView(f));
    return json{{"files", std::move(files)}};
  });

  d.Add("file.delete", Access::User, [&s](Call& c) {
    int64_t fileId = c.params.id("fileId");
    auto f = store::Files(s.db).Find(fileId);
    if (!f) throw AppError(ErrorCode::NotFound, "no such file", {{"fileId", fileId}});
    store::Room room = views::RoomOr404(s, f->roomId);
    const Identity& who = c.identity();
    bool host = false;
    if (const auto* m = s.conferences.MembershipOf(c.session.id()); m && m->roomId == room.id)
      if (const auto* p = s.conferences.Find(room.id)->Find(m->participantId)) host = p->role == "host";
    if (f->uploadedBy != who.userId && !host && !views::CanAdminRoom(s, who, room)) {
      // Whoever may not even read the room's files learns nothing about this one.
      if (!content::MayRead(s, who, room)) throw AppError(ErrorCode::NotFound, "no such file", {{"fileId", fileId}});
      throw AppError(ErrorCode::Forbidden, "only the uploader or a host may delete this file", {{"fileId", fileId}});
    }
    store::Files(s.db).Delete(fileId);
    std::string path = store::Files::PathOf(s.config.dataDir, fileId);
    if (g_unlink(path.c_str()) != 0 && errno != ENOENT)
      GST_WARNING("cannot remove file [path:%s error:%s]", path.c_str(), std::strerror(errno));
    if (auto* conf = s.conferences.Find(room.id)) conf->Broadcast("fileDeleted", {{"fileId", fileId}, {"roomId", room.id}});
    return json::object();
  });
}

}  // namespace atrium::rpc
